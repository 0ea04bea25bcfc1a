"""load_item_catalog and item_text: the item texts `nowrec catalog` embeds, read from Python."""

import subprocess

import numpy as np
import pytest

import nowrec

MOVIES = (
    "movieId,title,genres\n"
    '5,"Space Robots, The (2001)",Adventure|Sci-Fi\n'
    "2,Quiet Garden (1990),Drama\n"
    '9,"Laugh ""Riot"" (2010)",Comedy\n'
    "4,Untitled (1999),(no genres listed)\n")
TAGS = ("userId,movieId,tag,timestamp\n"
        "1,5,Robots,10\n1,5,space,11\n2,5,robots ,12\n3,9,slapstick,13\n3,5,  ,14\n")
# The texts tests/cli/test_catalog_command.cpp expects from `nowrec catalog` for the same files.
TEXTS = [
    "Space Robots, The (2001). Genres: Adventure, Sci-Fi. Tags: robots, space.",
    "Quiet Garden (1990). Genres: Drama.",
    'Laugh "Riot" (2010). Genres: Comedy. Tags: slapstick.',
    "Untitled (1999).",
]


@pytest.fixture
def data(tmp_path):
    (tmp_path / "movies.csv").write_text(MOVIES)
    (tmp_path / "tags.csv").write_text(TAGS)
    return tmp_path


def test_items_and_texts_in_file_order(data):
    items = nowrec.load_item_catalog(data / "movies.csv", data / "tags.csv")
    assert [i.id for i in items] == [5, 2, 9, 4]
    assert [i.text for i in items] == TEXTS
    assert items[0].title == "Space Robots, The (2001)"
    assert items[0].genres == ["Adventure", "Sci-Fi"]
    # "Robots", "robots " and "robots" are one tag, used most; a blank tag counts for nothing.
    assert items[0].tags == ["robots", "space"]
    assert items[3].genres == [] and items[3].tags == []


def test_without_tags_and_with_fewer_tags(data):
    items = nowrec.load_item_catalog(data / "movies.csv")
    assert items[0].text == "Space Robots, The (2001). Genres: Adventure, Sci-Fi."
    items = nowrec.load_item_catalog(data / "movies.csv", data / "tags.csv", max_tags=1)
    assert items[0].text == "Space Robots, The (2001). Genres: Adventure, Sci-Fi. Tags: robots."


def test_item_text_of_parts():
    item = nowrec.CatalogItem(7, "Toy Story (1995)", ["Adventure", "Animation"], ["pixar", "fun"])
    assert item.text == "Toy Story (1995). Genres: Adventure, Animation. Tags: pixar, fun."
    item.genres = []
    assert nowrec.item_text(item) == "Toy Story (1995). Tags: pixar, fun."
    assert nowrec.item_text(nowrec.CatalogItem(1, "Heat (1995)")) == "Heat (1995)."


def test_malformed_files_raise_naming_file_line_and_column(data):
    (data / "repeated.csv").write_text("movieId,title,genres\n1,A (1990),Drama\n1,B (1991),Drama\n")
    with pytest.raises(nowrec.Error) as caught:
        nowrec.load_item_catalog(data / "repeated.csv")
    assert caught.value.code == nowrec.ErrorCode.InvalidArgument
    assert "repeated.csv:3: column 'movieId'" in str(caught.value)
    (data / "stray.csv").write_text("userId,movieId,tag,timestamp\n1,77,x,1\n")
    with pytest.raises(nowrec.Error, match="item 77 is not in the items file"):
        nowrec.load_item_catalog(data / "movies.csv", data / "stray.csv")
    with pytest.raises(nowrec.Error) as caught:
        nowrec.load_item_catalog(data / "absent.csv")
    assert caught.value.code == nowrec.ErrorCode.Io


def test_texts_and_embeddings_equal_the_catalog_command(data, tmp_path, model_dir, cli):
    out = tmp_path / "catalog"
    subprocess.run([str(cli), "catalog", "--data", str(data), "--model", str(model_dir),
                    "--out", str(out), "--threads", "1"], check=True, capture_output=True)
    items = nowrec.load_item_catalog(data / "movies.csv", data / "tags.csv")
    texts = (out / "item_texts.txt").read_text(encoding="utf-8").splitlines()
    assert [i.text for i in items] == texts
    assert np.array_equal(np.load(out / "item_ids.npy"), [i.id for i in items])
    encoder = nowrec.SequenceEncoder.load(model_dir, threads=1)
    embeddings = encoder.encode([i.text for i in items])
    assert np.abs(embeddings - np.load(out / "item_embeddings.npy")).max() < 1e-5
