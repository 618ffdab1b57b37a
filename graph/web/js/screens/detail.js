// A movie's page: backdrop (or poster, or a title placeholder), facts, the community's rating,
// the viewer's own rating to set, change or remove, and similar movies.

import { gql, stillSignedIn } from "../api.js";
import { el, errorBox, loading, yearText } from "../dom.js";
import { becauseText, CARD_FIELDS, WHY_FIELDS } from "../ui/movie-card.js";
import { movieRow } from "../ui/movie-row.js";
import { picture } from "../ui/picture.js";
import { watchlistButton } from "../ui/watchlist-button.js";
import { starRating } from "../ui/star-rating.js";

/** GraphQL's Int is 32-bit: a larger id is no movie, not a request to send. */
const MAX_ID = 2 ** 31 - 1;

const MOVIE = /* GraphQL */ `
  query Movie($id: Int!) {
    viewer { id }
    movie(id: $id) {
      id
      displayTitle
      alsoKnownAs
      year
      genres
      overview
      backdropUrl(size: W780)
      posterUrl(size: W500)
      ratingStats { average count }
      viewerRating
      inWatchlist
      ...WhyFields
      similar(first: 12) { ...CardFields }
    }
  }
  ${CARD_FIELDS}
  ${WHY_FIELDS}
`;

/** "3.9 average from 215 ratings", or "No ratings yet". */
function statsText({ average, count }) {
  if (!count || average === null) return "No ratings yet";
  return `${average.toFixed(1)} average from ${count} ${count === 1 ? "rating" : "ratings"}`;
}

/** "Predicted for you: 4.3 of 5. Because you rated …", for a movie the viewer has not rated. */
function whyText({ viewerRating, predictedRating, because }) {
  if (viewerRating !== null || predictedRating === null) return null;
  const reason = becauseText(because);
  return `Predicted for you: ${predictedRating.toFixed(1)} of 5.${reason ? ` ${reason}.` : ""}`;
}

/**
 * "← Back" goes back in history when the user came from a page of this app (another movie's
 * Similar row, a search), and Home when they arrived here directly (a link, a new tab).
 * @param {string | null} cameFrom
 */
function backLink(cameFrom) {
  const link = el("a", { href: "#/home" }, cameFrom ? "← Back" : "← Home");
  if (cameFrom) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      history.back();
    });
  }
  return el("p", { className: "back" }, link);
}

function notFound(heading, body) {
  heading.textContent = "Movie not found";
  document.title = "Movie not found – movierec";
  body.replaceChildren(
    el(
      "p",
      {},
      "No movie has this number. ",
      el("a", { href: "#/home" }, "Go to Home"),
      " or search for a title above.",
    ),
  );
}

/**
 * @param {HTMLElement} view
 * @param {{ params: string[], cameFrom: string | null }} route
 * @returns {Promise<void>} settles once the movie has loaded (or failed to)
 */
export function renderDetail(view, { params: [id], cameFrom }) {
  const heading = el("h1", { tabIndex: -1 }, "Movie");
  const body = el("div", { className: "detail-body" }, loading());
  view.append(backLink(cameFrom), heading, body);

  async function load() {
    const movieId = Number(id);
    if (!Number.isSafeInteger(movieId) || movieId > MAX_ID) return notFound(heading, body);
    body.replaceChildren(loading());
    let data;
    try {
      data = await gql(MOVIE, { id: movieId });
    } catch (error) {
      if (error.code === "BAD_USER_INPUT") return notFound(heading, body);
      body.replaceChildren(errorBox(error, load));
      return;
    }
    if (!stillSignedIn(data)) return;
    const { movie } = data;
    if (movie === null) return notFound(heading, body);
    heading.textContent = movie.displayTitle;
    document.title = `${movie.displayTitle} – movierec`;
    const stats = el("p", { className: "stats" }, statsText(movie.ratingStats));
    const similar = movieRow({
      heading: "Similar movies",
      load: async () => movie.similar,
      empty: () => "No similar movies found.",
    });
    body.replaceChildren(
      picture({
        urls: [movie.backdropUrl, movie.posterUrl],
        title: movie.displayTitle,
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
        movie.alsoKnownAs.length > 0 &&
          el("p", { className: "aka" }, `Also known as ${movie.alsoKnownAs.join(" · ")}`),
        stats,
        whyText(movie) && el("p", { className: "why" }, whyText(movie)),
        el("p", { className: "save-row" }, watchlistButton(movie)),
        starRating({
          movieId: movie.id,
          title: movie.displayTitle,
          value: movie.viewerRating,
          onSaved: ({ ratingStats }) => (stats.textContent = statsText(ratingStats)),
          removable: true,
        }),
        el("p", { className: "overview" }, movie.overview || "No overview available."),
      ),
      similar.element,
    );
    await similar.ready;
  }
  return load();
}
