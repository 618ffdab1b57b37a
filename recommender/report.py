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
    holdout = results["rating"]["holdout_80_20"]
    cv_name, cv = next((k, v) for k, v in results["rating"].items() if k.startswith("cv_"))
    folds = cv_name.split("_")[1]
    lines += [
        f"| model | 80/20 RMSE | 80/20 MAE | {folds}-fold RMSE | {folds}-fold MAE | fit s |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, split in holdout.items():
        row = cv[name]
        seconds = "in blend" if row["seconds_mean"] is None else f"{row['seconds_mean']:.2f}"
        lines.append(
            f"| {name} | {split['rmse']:.4f} | {split['mae']:.4f} "
            f"| {row['rmse_mean']:.4f} ± {row['rmse_std']:.4f} "
            f"| {row['mae_mean']:.4f} ± {row['mae_std']:.4f} | {seconds} |"
        )
    lines += [
        "",
        "### Top-10 ranking (temporal split: last 20 % of each user's ratings; relevant >= 4.0)",
        "",
        "| model | P@10 | R@10 | NDCG@10 | MAP@10 | coverage | fit s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, row in results["ranking"].items():
        lines.append(
            f"| {name} | {row['precision']:.4f} | {row['recall']:.4f} | {row['ndcg']:.4f} "
            f"| {row['map']:.4f} | {row['coverage']:.3f} | {row['seconds']:.2f} |"
        )
    users = next(iter(results["ranking"].values()))["users"]
    lines += [
        "",
        f"Ranking users (with a relevant test item): {users}. Hyper-parameters and blend weights "
        "of the served models were chosen on validation splits carved from the training parts "
        "only, never on a test part: the temporal rule applied again for ranking (PureSVD "
        f"{chosen['ranker']}; served defaults equal this choice: "
        f"{'yes' if validation['served_defaults_match'] else 'NO'}); for rating prediction, "
        "every fit (each fold, the 80/20 split, `movierec train`) carves a random 20 % of its "
        "own training ratings, fits both components on the rest, and picks the fold-in ridge "
        "penalties (user bias, user factors) and the blend weights (least squares) there, then "
        f"refits the components on all its training ratings. {_blend_choice(validation)}",
        "",
        *_similar_table(results["similar"]),
    ]
    return "\n".join(lines)


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
        "fitted on the training part only. Coverage: share of the training catalogue listed to "
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
    intercept, svd, neighbours = chosen["weights"]
    return (
        f"On the 80/20 train part ({carve['rows']:,} validation ratings): penalties "
        f"{chosen['bias_reg']:g} (bias) and {chosen['factor_reg']:g} (factors); blend "
        f"{intercept:+.3f} {svd:+.3f} x SVD {neighbours:+.3f} x KNN; validation RMSE SVD "
        f"{chosen['svd_rmse']:.4f}, KNN {carve['neighbours_rmse']:.4f}, blend "
        f"{chosen['blend_rmse']:.4f}."
    )
