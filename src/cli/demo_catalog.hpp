// A small built-in movie catalog for `nowrec demo`, so that the demo needs no data files.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace nowrec::cli {

struct DemoMovie {
  std::int64_t id;  // MovieLens movieId
  std::string_view text;  // title and genres, as the item text the encoder embeds
};

inline constexpr std::array<DemoMovie, 32> kDemoCatalog = {{
    {1, "Toy Story (1995) Adventure, Animation, Children, Comedy, Fantasy"},
    {260, "Star Wars: Episode IV - A New Hope (1977) Action, Adventure, Sci-Fi"},
    {1196, "Star Wars: Episode V - The Empire Strikes Back (1980) Action, Adventure, Sci-Fi"},
    {60069, "WALL·E (2008) Adventure, Animation, Children, Romance, Sci-Fi"},
    {541, "Blade Runner (1982) Action, Sci-Fi, Thriller"},
    {1200, "Aliens (1986) Action, Adventure, Horror, Sci-Fi"},
    {589, "Terminator 2: Judgment Day (1991) Action, Sci-Fi"},
    {2571, "Matrix, The (1999) Action, Sci-Fi, Thriller"},
    {79132, "Inception (2010) Action, Crime, Drama, Mystery, Sci-Fi, Thriller, IMAX"},
    {109487, "Interstellar (2014) Sci-Fi, IMAX"},
    {115617, "Big Hero 6 (2014) Action, Animation, Comedy"},
    {318, "Shawshank Redemption, The (1994) Crime, Drama"},
    {858, "Godfather, The (1972) Crime, Drama"},
    {296, "Pulp Fiction (1994) Comedy, Crime, Drama, Thriller"},
    {593, "Silence of the Lambs, The (1991) Crime, Horror, Thriller"},
    {2959, "Fight Club (1999) Action, Crime, Drama, Thriller"},
    {356, "Forrest Gump (1994) Comedy, Drama, Romance, War"},
    {1704, "Good Will Hunting (1997) Drama, Romance"},
    {4973, "Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001) Comedy, Romance"},
    {1721, "Titanic (1997) Drama, Romance"},
    {7361, "Eternal Sunshine of the Spotless Mind (2004) Drama, Romance, Sci-Fi"},
    {5618, "Spirited Away (Sen to Chihiro no kamikakushi) (2001) Adventure, Animation, Fantasy"},
    {5971, "My Neighbor Totoro (Tonari no Totoro) (1988) Animation, Children, Drama, Fantasy"},
    {3000, "Princess Mononoke (Mononoke-hime) (1997) Action, Adventure, Animation, Drama, Fantasy"},
    {6350, "Laputa: Castle in the Sky (Tenkû no shiro Rapyuta) (1986) Action, Adventure, Animation"},
    {1907, "Mulan (1998) Adventure, Animation, Children, Comedy, Drama, Musical, Romance"},
    {30812, "Aviator, The (2004) Drama"},
    {2324, "Life Is Beautiful (La Vita è bella) (1997) Comedy, Drama, Romance, War"},
    {6016, "City of God (Cidade de Deus) (2002) Action, Adventure, Crime, Drama, Thriller"},
    {27773, "Oldboy (2003) Mystery, Thriller"},
    {2997, "Being John Malkovich (1999) Comedy, Drama, Fantasy"},
    {68954, "Up (2009) Adventure, Animation, Children, Drama"},
}};

}  // namespace nowrec::cli
