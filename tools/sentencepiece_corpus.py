# Real text for the SentencePiece test model: MovieLens titles, genres and tags plus multilingual lines.
"""Text shared by make_sentencepiece_model.py (training) and make_sentencepiece_fixtures.py
(reference ids), so that both read the same data the same way."""

import csv
import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def movielens_dir() -> Path:
    """ml-latest-small, from $NOWREC_MOVIELENS or the shared data folder beside the repository."""
    env = os.environ.get("NOWREC_MOVIELENS")
    if env:
        return Path(env)
    return REPO.parent / "shared" / "data" / "ml-latest-small"


def movie_titles() -> list[str]:
    with open(movielens_dir() / "movies.csv", newline="", encoding="utf-8") as f:
        return [row["title"] for row in csv.DictReader(f)]


def movie_genres() -> list[str]:
    """The genre field as written, e.g. 'Adventure|Animation|Children'."""
    with open(movielens_dir() / "movies.csv", newline="", encoding="utf-8") as f:
        return [row["genres"] for row in csv.DictReader(f)]


def movie_tags() -> list[str]:
    """Every tag in file order, duplicates kept (the trainer should see real frequencies)."""
    with open(movielens_dir() / "tags.csv", newline="", encoding="utf-8") as f:
        return [row["tag"] for row in csv.DictReader(f)]


# Lines about films in the scripts a multilingual encoder meets. The trainer sees these; the
# fixture script also uses HELD_OUT_LINES, which the trainer never sees, so that characters
# outside the vocabulary reach <unk>.
MULTILINGUAL_LINES = [
    # Chinese (simplified and traditional)
    "我昨天晚上看了一部很好看的科幻电影。",
    "这部电影的导演是宫崎骏，画面非常美。",
    "推荐一些适合周末和家人一起看的动画片。",
    "我喜欢悬疑片和犯罪片，不太喜欢恐怖片。",
    "这部纪录片讲述了北极熊在气候变化中的生活。",
    "电影的配乐让我感动得流泪了。",
    "功夫片里最经典的还是李小龙的作品。",
    "我想看一部轻松的爱情喜剧。",
    "這部電影的劇情很緊湊，演員的表演也很出色。",
    "臥虎藏龍是一部武俠電影。",
    "千与千寻是我最喜欢的动画电影之一。",
    "星际穿越的物理设定非常严谨。",
    "霸王别姬讲述了京剧演员的一生。",
    "我们今晚去电影院看新上映的动作片吧。",
    # Japanese
    "昨日、友達と一緒に映画館でアニメ映画を見ました。",
    "この映画の音楽はとても素晴らしいです。",
    "宮崎駿監督の作品が大好きです。",
    "週末にホラー映画を見たいけど、一人だと怖い。",
    "となりのトトロは子供にも大人にも人気があります。",
    "黒澤明の七人の侍は日本映画の名作です。",
    "このドラマのキャストは豪華すぎる！",
    "おすすめのサスペンス映画を教えてください。",
    "君の名は。を三回も観に行きました。",
    "ゴジラ映画のシリーズを全部見たい。",
    # Korean
    "어제 친구와 함께 영화를 봤어요.",
    "이 영화의 줄거리는 정말 감동적이에요.",
    "봉준호 감독의 기생충은 아카데미상을 받았어요.",
    "주말에 볼 만한 코미디 영화를 추천해 주세요.",
    "공포 영화는 혼자 보면 너무 무서워요.",
    "이 드라마의 배우들은 연기를 정말 잘해요.",
    "올드보이는 반전이 있는 스릴러 영화입니다.",
    "애니메이션 영화도 어른들이 좋아할 수 있어요.",
    # Arabic
    "شاهدت فيلماً رائعاً في السينما أمس.",
    "هذا الفيلم من أفضل أفلام الخيال العلمي.",
    "أحب الأفلام الوثائقية عن الطبيعة والحيوانات.",
    "هل يمكنك أن تقترح فيلماً كوميدياً للعائلة؟",
    "الموسيقى التصويرية لهذا الفيلم جميلة جداً.",
    "المخرج يوسف شاهين من أشهر المخرجين العرب.",
    # Russian and Ukrainian
    "Вчера я посмотрел отличный фильм о космосе.",
    "Этот фильм снял Андрей Тарковский.",
    "Посоветуйте хорошую комедию на выходные.",
    "Мне нравятся старые советские мультфильмы.",
    "Сталкер и Солярис — классика научной фантастики.",
    "Война и мир — очень длинный, но красивый фильм.",
    "Ірония долі — улюблений новорічний фільм.",
    "Фільм про кохання та війну зворушив мене до сліз.",
    # Greek, Hebrew, Hindi, Thai, Turkish, Vietnamese
    "Η ταινία ήταν πολύ συναρπαστική και αστεία.",
    "הסרט הזה היה מרגש מאוד.",
    "मुझे बॉलीवुड की पुरानी फ़िल्में बहुत पसंद हैं।",
    "यह फ़िल्म परिवार के साथ देखने लायक है।",
    "ภาพยนตร์เรื่องนี้สนุกมาก",
    "Bu film çok güzeldi, herkese tavsiye ederim.",
    "Türk sinemasının en iyi dramlarından biri.",
    "Bộ phim này rất hay và cảm động.",
    "Tôi thích xem phim hoạt hình vào cuối tuần.",
    # Accented Latin scripts
    "Le fabuleux destin d'Amélie Poulain est un film français très poétique.",
    "J'ai adoré la bande originale de ce drame policier.",
    "Les Misérables est une comédie musicale émouvante.",
    "La película mexicana ganó muchos premios en el festival.",
    "¿Cuál es tu película de terror favorita?",
    "El laberinto del fauno mezcla fantasía y guerra civil española.",
    "O filme brasileiro Cidade de Deus é muito intenso.",
    "A animação portuguesa ganhou o prémio do júri.",
    "Der Film war spannend, aber das Ende hat mich enttäuscht.",
    "Die Verfilmung des Romans ist überraschend gelungen.",
    "Großartige Schauspieler und eine düstere Atmosphäre.",
    "La vita è bella è un capolavoro del cinema italiano.",
    "Ingmar Bergmans filmer är mörka men vackra.",
    "Filmen fick bästa regi på festivalen i Göteborg.",
    "Søndag aften så vi en dansk krimi på fjernsynet.",
    "Ten film był bardzo wzruszający i zabawny.",
    "Český film Pelíšky je klasika.",
    "Ez a magyar film nagyon különleges volt.",
    "Filmul românesc a câștigat Palme d'Or.",
    "Þetta er íslensk kvikmynd um sjómenn.",
    "Ĉu vi ŝatas sciencfikciajn filmojn?",
    # Emoji and symbols
    "Great movie 🎬🍿 loved it ❤️",
    "So scary 😱👻 would watch again 👍",
    "Best soundtrack ever 🎵🎶🎸",
    "Family night 👨‍👩‍👧‍👦 with popcorn 🍿",
    "Rated ⭐⭐⭐⭐⭐ by everyone",
    "Space opera 🚀🌌✨ with aliens 👽",
    "Cried so much 😭😭😭",
    "Fire 🔥🔥 action scenes 💥",
    "Café ☕ and a movie on a rainy day ☔",
    "Romantic comedy 💕😂 for Valentine's day 💘",
    "100% recommend ✔️ 10/10 🏆",
    "Zombies 🧟‍♂️ vs. robots 🤖",
    # Mixed scripts
    "Spirited Away (千と千尋の神隠し) 2001 🐉",
    "Parasite (기생충) won Best Picture in 2020.",
    "Crouching Tiger, Hidden Dragon (臥虎藏龍) — Ang Lee",
    "Amélie (Le Fabuleux Destin d'Amélie Poulain) (2001)",
    "Солярис (Solaris, 1972) — Андрей Тарковский",
    "Seven Samurai (七人の侍) by Akira Kurosawa",
    "Oldboy (올드보이) 2003 thriller",
    "Cinema Paradiso (Nuovo Cinema Paradiso) — Giuseppe Tornatore",
]

# Never given to the trainer: rare characters, scripts and symbols the model has not seen.
HELD_OUT_LINES = [
    "ሰላም ለዓለም — Amharic greeting",
    "ᚠᚢᚦᚨᚱᚲ runes in a fantasy film",
    "𝔉𝔯𝔞𝔨𝔱𝔲𝔯 heading and 𝓼𝓬𝓻𝓲𝓹𝓽 letters",
    "ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３ letters",
    "㍻ ㌔ ㎏ ℃ № ™ ½ ¼ ﬁ ligatures",
    "Ⅻ Ⅳ ⅷ roman numerals",
    "ﾊﾝｶｸ half-width katakana ｶﾀｶﾅ",
    "dž ǅ Ǆ ĳ combined letters",
    "e\u0301 a\u0300 o\u0308 combining marks",
    "Zalgo t\u0336e\u0337x\u0338t\u0335",
    "𠜎𠜱𠝹𠱓 rare CJK extension B",
    "🫠🫡🫥 newer emoji",
    "🏳️‍🌈 flag and 🇯🇵 🇫🇷 regional indicators",
    "ꦗꦮ Javanese script",
    "ᓀᐦᐃᔭᐍᐏᐣ Cree syllabics",
    "Ꭰ Ꭱ Ꭲ Cherokee",
    "𓀀𓀁 hieroglyphs",
    "Mongolian ᠮᠣᠩᠭᠣᠯ",
    "Tibetan བོད་ཡིག",
    "ⵜⴰⵎⴰⵣⵉⵖⵜ Tifinagh",
]
