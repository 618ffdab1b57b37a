// A movie's page: backdrop (or poster, or a title placeholder), facts, the community's rating,
// the viewer's own rating to set or change, and similar movies.

import { gql } from "../api.js";
import { el, errorBox, loading, yearText } from "../dom.js";
import { CARD_FIELDS } from "../ui/movie-card.js";
import { movieRow } from "../ui/movie-row.js";
import { picture } from "../ui/picture.js";
import { starRating } from "../ui/star-rating.js";

const MOVIE = /* GraphQL */ `
  query Movie($id: Int!) {
    movie(id: $id) {
      id
      title
      year
      genres
      overview
      backdropUrl(size: W780)
      posterUrl(size: W500)
      ratingStats { average count }
      viewerRating
      similar(first: 12) { ...CardFields }
    }
  }
  ${CARD_FIELDS}
`;

/** "3.9 average from 215 ratings", or "No ratings yet". */
function statsText({ average, count }) {
  if (!count || average === null) return "No ratings yet";
  return `${average.toFixed(1)} average from ${count} ${count === 1 ? "rating" : "ratings"}`;
}

/** @param {HTMLElement} view @param {{ params: string[] }} route */
export function renderDetail(view, { params: [id] }) {
  const heading = el("h1", { tabIndex: -1 }, "Movie");
  const body = el("div", { className: "detail-body" }, loading());
  const back = el("p", { className: "back" }, el("a", { href: "#/home" }, "← Home"));
  view.append(back, heading, body);

  async function load() {
    body.replaceChildren(loading());
    let movie;
    try {
      ({ movie } = await gql(MOVIE, { id: Number(id) }));
    } catch (error) {
      body.replaceChildren(errorBox(error, load));
      return;
    }
    if (movie === null) {
      heading.textContent = "Movie not found";
      body.replaceChildren(
        el("p", {}, "No movie has this number. ", el("a", { href: "#/home" }, "Back to Home")),
      );
      return;
    }
    heading.textContent = movie.title;
    document.title = `${movie.title} – movierec`;
    const stats = el("p", { className: "stats" }, statsText(movie.ratingStats));
    body.replaceChildren(
      picture({
        urls: [movie.backdropUrl, movie.posterUrl],
        title: movie.title,
        className: "backdrop",
      }),
      el(
        "div",
        { className: "facts" },
        el(
          "p",
          { className: "meta" },
          [yearText(movie.year), movie.genres.join(", ")].filter(Boolean).join(" · "),
        ),
        stats,
        starRating({
          movieId: movie.id,
          title: movie.title,
          value: movie.viewerRating,
          onSaved: ({ ratingStats }) => (stats.textContent = statsText(ratingStats)),
        }),
        el("p", { className: "overview" }, movie.overview || "No overview available."),
      ),
      movieRow({
        heading: "Similar movies",
        load: async () => movie.similar,
        empty: () => "No similar movies found.",
      }).element,
    );
  }
  load();
}
