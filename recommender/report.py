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
        lines.append(
            f"| {name} | {split['rmse']:.4f} | {split['mae']:.4f} "
            f"| {row['rmse_mean']:.4f} ± {row['rmse_std']:.4f} "
            f"| {row['mae_mean']:.4f} ± {row['mae_std']:.4f} | {row['seconds_mean']:.2f} |"
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
        f"Ranking users (with a relevant test item): {users}. Hyper-parameters of the served "
        "models were chosen on validation splits carved from the training parts only (the "
        "temporal rule applied again for ranking; a random 20 % of the 80/20 train part for the "
        f"fold-in penalty), never on a test part: PureSVD {chosen['ranker']}, fold-in ridge "
        f"penalty {chosen['fold_in_reg']:g}. Served defaults equal this choice: "
        f"{'yes' if validation['served_defaults_match'] else 'NO'}.",
        "",
    ]
    return "\n".join(lines)
