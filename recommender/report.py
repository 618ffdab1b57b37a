"""The evaluation as Markdown: the tables the README quotes and ``movierec evaluate`` prints."""

from __future__ import annotations

from typing import Any


def to_markdown(results: dict[str, Any], *, command: str) -> str:
    """Render :func:`recommender.comparison.run_comparison` output as Markdown tables."""
    data, validation = results["data"], results["validation"]
    chosen = validation["chosen"]
    lines = [
        f"Command: `{command}` (seed {results['seed']}"
        f"{', quick' if results['quick'] else ''}); {data['ratings']:,} ratings, "
        f"{data['users']:,} users, {data['movies']:,} movies.",
        "",
        "### Rating prediction",
        "",
    ]
    holdout, timed = results["rating"]["holdout_80_20"], results["rating"]["time_based"]
    cv_name, cv = next((k, v) for k, v in results["rating"].items() if k.startswith("cv_"))
    folds = cv_name.split("_")[1]
    lines += [
        f"| model | 80/20 RMSE | 80/20 MAE | {folds}-fold RMSE | {folds}-fold MAE "
        "| time-based RMSE | fit s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, split in holdout.items():
        row = cv[name]
        seconds = "in blend" if row["seconds_mean"] is None else f"{row['seconds_mean']:.2f}"
        lines.append(
            f"| {name} | {split['rmse']:.4f} | {split['mae']:.4f} "
            f"| {row['rmse_mean']:.4f} ± {row['rmse_std']:.4f} "
            f"| {row['mae_mean']:.4f} ± {row['mae_std']:.4f} | {timed[name]['rmse']:.4f} "
            f"| {seconds} |"
        )
    ranking = results["ranking"]
    lines += [
        "",
        "Time-based: each user's latest 20 % of ratings (by time) are the test, as in the "
        "ranking protocol below. The folds and the 80/20 split come from independent random "
        "streams of the seed.",
        "",
        "### Top-10 ranking (temporal split: last 20 % of each user's ratings; relevant >= 4.0)",
        "",
        "| model | P@10 | R@10 | NDCG@10 | MAP@10 | coverage | fit s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, row in ranking.items():
        lines.append(
            f"| {name} | {row['precision']:.4f} | {row['recall']:.4f} | {row['ndcg']:.4f} "
            f"| {row['map']:.4f} | {row['coverage']:.3f} | {row['seconds']:.2f} |"
        )
    users = next(iter(ranking.values()))["users"]
    buckets = list(next(iter(ranking.values()))["activity"])
    lines += [
        "",
        "Exposure of the same top-10 lists, and NDCG@10 by the user's number of training "
        "ratings (users per bucket in the header):",
        "",
        "| model | distinct movies | slots in 100 most-rated | Gini | novelty (bits) | "
        + " | ".join(
            f"NDCG {b} ({next(iter(ranking.values()))['activity'][b]['users']})" for b in buckets
        )
        + " |",
        "| --- | ---: | ---: | ---: | ---: | " + " | ".join("---:" for _ in buckets) + " |",
    ]
    for name, row in ranking.items():
        seen = row["exposure"]
        lines.append(
            f"| {name} | {seen['distinct']} | {seen['top100_share']:.3f} | {seen['gini']:.3f} "
            f"| {seen['novelty']:.2f} | "
            + " | ".join(f"{row['activity'][b]['ndcg']:.4f}" for b in buckets)
            + " |"
        )
    lines += [
        "",
        f"Ranking users (with a relevant test item): {users}. Gini: of slots per training movie "
        "(1: one movie takes every slot); novelty: mean -log2 of the share of users who rated a "
        "listed movie.",
        "",
        *_paired_table(results["paired"]),
        "### How the served models were chosen",
        "",
        "Hyper-parameters and blend weights of the served models were chosen on validation "
        "splits carved from the training parts only, never on a test part: the temporal rule "
        "applied again to the ranking train part for the ranker (PureSVD "
        f"{_params(chosen['ranker'])}, best of {len(validation['ranker_search']['ranker_trials'])} "
        f"variants) and the cold-start list (popularity by {chosen['popularity']}); served "
        f"defaults equal this choice: {'yes' if validation['served_defaults_match'] else 'NO'}. "
        "For rating prediction, every fit (each fold, each split, `movierec train`) carves a "
        "random 20 % of its own training ratings, fits the components on the rest, and picks "
        "there the fold-in's user penalties (day bias, factors), the neighbours a prediction "
        "reads and the blend weights (least squares), then refits the components on all its "
        f"training ratings with those choices. {_blend_choice(validation)} "
        "Every trial is in `evaluation.json` (`validation`).",
        "",
        *_similar_table(results["similar"]),
    ]
    return "\n".join(lines)


def _params(params: dict[str, Any]) -> str:
    return ", ".join(f"{name} {value:g}" for name, value in params.items())


def _paired_table(paired: dict[str, Any]) -> list[str]:
    """The served models against the previously served ones, user by user."""
    labels = {
        "ranking_ndcg_temporal": "NDCG@10, temporal ranking split (higher is better)",
        "rating_user_mse_holdout_80_20": "per-user MSE, 80/20 split (lower is better)",
        "rating_user_mse_time_based": "per-user MSE, time-based split (lower is better)",
        **{
            key: f"per-user MSE, {key.split('_')[3]}-fold CV, every rating tested once "
            "(lower is better)"
            for key in paired
            if key.startswith("rating_user_mse_cv_")
        },
    }
    lines = [
        "### Served against previously served, user by user",
        "",
        "| measure | users | mean difference (served - previous) | 95 % interval |",
        "| --- | ---: | ---: | --- |",
    ]
    for key, label in labels.items():
        pair = paired[key]
        lines.append(
            f"| {label} | {pair['users']} | {pair['mean']:+.4f} "
            f"| [{pair['low']:+.4f}, {pair['high']:+.4f}] |"
        )
    return [
        *lines,
        "",
        "Previous: PureSVD k=20, beta -0.1, shift 2.5, no shrinkage (the ranker before the "
        "shrunk one), and the rating blend served before the time effects (surprise SVD "
        "folded in + top-100 item neighbours). Intervals: t over the per-user differences.",
        "",
    ]


def _similar_table(similar: dict[str, Any]) -> list[str]:
    lines = [
        "### Similar movies (item-to-item, same temporal split)",
        "",
        "| method | HitRate@10 | NDCG@10 | coverage | mean popularity |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, row in similar.items():
        lines.append(
            f"| {name} | {row['hit_rate']:.4f} | {row['ndcg']:.4f} | {row['coverage']:.3f} "
            f"| {row['mean_popularity']:.1f} |"
        )
    users = next(iter(similar.values()))["users"]
    return [
        *lines,
        "",
        f"Users: the {users} ranking users with a training rating >= 4.0. Each user's seed is "
        "their latest training movie rated >= 4.0; a method lists 10 movies similar to the seed, "
        "skipping the user's training movies, scored against the user's relevant test movies "
        "(HitRate: share of users with at least one; NDCG as for ranking). Every method is "
        "fitted on the training part only. Coverage: share of the training catalog listed to "
        "anyone; mean popularity: mean training rating count of the listed movies. This "
        "protocol rewards popular movies whatever the seed (see the popularity row), so the "
        "served method is chosen among the methods that rank by likeness to the seed; most "
        "co-rated is the popularity signal restricted to the seed's raters.",
        "",
    ]


def _blend_choice(validation: dict[str, Any]) -> str:
    """What the 80/20 fit's validation carve chose, in words."""
    carve = validation["rating_blend_holdout_80_20"]
    if "chosen" not in carve:
        return f"The 80/20 fit had too few ratings to validate ({carve['rows']}): SVD alone."
    chosen = carve["chosen"]
    intercept, temporal, neighbours, residual = chosen["weights"]
    return (
        f"On the 80/20 train part ({carve['rows']:,} validation ratings): day penalty "
        f"{chosen['day_reg']:g}, factor penalty {chosen['factor_reg']:g}, "
        f"{chosen['neighbours']} neighbours; blend {intercept:+.3f} {temporal:+.3f} x time-aware "
        f"{neighbours:+.3f} x KNN {residual:+.3f} x neighbour term on the time-aware baseline's "
        f"residuals; validation RMSE time-aware {chosen['temporal_rmse']:.4f}, KNN "
        f"{chosen['neighbours_rmse']:.4f}, blend {chosen['blend_rmse']:.4f}."
    )
