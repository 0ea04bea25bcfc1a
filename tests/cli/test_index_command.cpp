// `nowrec index`: CSV and TSV items (quoted fields, chosen columns) become a loadable index in
// which each item's own text ranks it first.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "nowrec/error.hpp"
#include "nowrec/ranker.hpp"
#include "nowrec/sequence_encoder.hpp"
#include "test_support.hpp"

namespace {

std::string cli() { return nowrec::test::env_path("NOWREC_CLI").string(); }

int run(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string index_command(const std::filesystem::path& items, const std::filesystem::path& out,
                          const std::string& extra) {
  return cli() + " index --model '" + nowrec::test::model_dir().string() + "' --items '" +
         items.string() + "' --out '" + out.string() + "' " + extra + " 2>/dev/null";
}

}  // namespace

TEST_CASE("index: quoted CSV fields and chosen text columns") {
  nowrec::test::TempDir dir;
  const auto items = dir.path() / "items.csv";
  nowrec::test::write_file(items,
                           "year,id,title,genres\r\n"
                           "1995,11,\"Heat, the movie\",Action|Crime\r\n"
                           "1994,22,\"The \"\"Lion\"\" King\",Animation|Children\r\n"
                           "1997,33,\"Contact\nextended\",Sci-Fi\r\n");
  const auto out = dir.path() / "items.nowrec";
  REQUIRE(run(index_command(items, out,
                            "--id-column id --text-column title --text-column genres "
                            "--storage int8")) == 0);
  const auto index = nowrec::ItemIndex::load(out);
  CHECK(index.size() == 3);
  CHECK(index.options().storage == nowrec::StorageType::Int8);
  for (std::int64_t id : {11, 22, 33}) CHECK(index.contains(id));

  // The texts the command must have embedded: quotes undone, columns joined by a space.
  const auto encoder = nowrec::SequenceEncoder::load(nowrec::test::model_dir());
  const std::vector<std::string_view> texts = {"Heat, the movie Action|Crime",
                                               "The \"Lion\" King Animation|Children",
                                               "Contact\nextended Sci-Fi"};
  const auto vectors = encoder.encode(texts);
  const nowrec::Ranker ranker(index);
  const std::int64_t ids[] = {11, 22, 33};
  for (std::size_t i = 0; i < 3; ++i) {
    const auto best = ranker.top_k(std::span(vectors).subspan(i * encoder.dim(), encoder.dim()), 1);
    CHECK(best[0].id == ids[i]);
    CHECK(best[0].score == doctest::Approx(1.0f).epsilon(0.01));
  }
}

TEST_CASE("index: TSV with the id in the first column by default") {
  nowrec::test::TempDir dir;
  const auto items = dir.path() / "items.tsv";
  nowrec::test::write_file(items, "item\ttext\n5\tred apple\n6\tgreen \"pear\"\n");
  const auto out = dir.path() / "items.nowrec";
  REQUIRE(run(index_command(items, out, "")) == 0);
  const auto index = nowrec::ItemIndex::load(out);
  CHECK(index.size() == 2);
  CHECK(index.contains(5));
  CHECK(index.contains(6));
}

TEST_CASE("index: bad items files fail with a message and write nothing") {
  nowrec::test::TempDir dir;
  const auto out = dir.path() / "out.nowrec";
  const auto bad_id = dir.path() / "bad_id.csv";
  nowrec::test::write_file(bad_id, "id,text\n1,ok\nx7,bad\n");
  CHECK(run(index_command(bad_id, out, "")) != 0);
  const auto duplicate = dir.path() / "duplicate.csv";
  nowrec::test::write_file(duplicate, "id,text\n1,a\n1,b\n");
  CHECK(run(index_command(duplicate, out, "")) != 0);
  const auto short_row = dir.path() / "short.csv";
  nowrec::test::write_file(short_row, "id,a,b\n1,x\n");
  CHECK(run(index_command(short_row, out, "--text-column b")) != 0);
  CHECK(run(index_command(dir.path() / "missing.csv", out, "")) != 0);
  CHECK(run(index_command(bad_id, out, "--storage fp64")) != 0);
  CHECK_FALSE(std::filesystem::exists(out));
}

TEST_CASE("index: a quote never closed, text after one or a row of another width is refused") {
  nowrec::test::TempDir dir;
  const auto out = dir.path() / "out.nowrec";
  const auto err = dir.path() / "err.txt";
  const auto fails_saying = [&](const std::string& name, const std::string& text,
                                const std::string& message) {
    const auto items = dir.path() / name;
    nowrec::test::write_file(items, text);
    std::filesystem::remove(out);
    const std::string command = cli() + " index --model '" + nowrec::test::model_dir().string() +
                                "' --items '" + items.string() + "' --out '" + out.string() +
                                "' >/dev/null 2>'" + err.string() + "'";
    CHECK(run(command) != 0);
    const std::string said = nowrec::test::read_file(err);
    CAPTURE(said);
    CHECK(said.find(items.string() + message) != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(out));
  };
  // Without the closing quote the rest of the file would become one title.
  fails_saying("open.csv", "id,title\n1,\"Toy Story\n2,Heat\n3,Up\n4,Emma\n",
               ":2: a quoted field is not closed before the end of the file");
  // The field left open starts on the record's second line.
  fails_saying("open_later.csv", "id,title,genres\n1,\"Toy\nStory\",\"Animation\n2,Up,Drama\n",
               ":3: a quoted field is not closed before the end of the file");
  fails_saying("open_header.csv", "id,\"title\n1,Up\n",
               ":1: a quoted field is not closed before the end of the file");
  // An unquoted comma in a title splits it: " The" would be lost.
  fails_saying("extra.csv", "id,title\n1,Toy Story (1995)\n2,Up, The\n",
               ":3: the record has 3 fields, the header has 2");
  // A record's line is the one it starts on.
  fails_saying("short.csv", "id,title,genres\n1,\"Toy\nStory\",Animation\n2,Up\n",
               ":4: the record has 2 fields, the header has 3");
  fails_saying("extra.tsv", "id\ttitle\n1\tUp\tDrama\n",
               ":2: the record has 3 fields, the header has 2");
  // A closing quote ends its field; CRLF endings after one are fine.
  fails_saying("after_quote.csv", "id,title\r\n1,\"Up\"\r\n2,\"Toy\" Story\r\n",
               ":3: text after the closing quote of field 2");
}
