"""Figure functions of the lessons: the long matplotlib code lives here.

A lesson cell keeps the line that matters in view (``figures.complexity_curves(sweep)``) and
leaves axes, labels and annotations to these functions, as the Python Data Science Handbook does
with its figure code. Each function draws on the Axes it is given (or a new one) and returns it;
the lesson calls ``plt.show()``.
"""
from __future__ import annotations

import matplotlib.pyplot as plt


def _axes(ax, size):
    return ax if ax is not None else plt.subplots(figsize=size)[1]


def complexity_curves(sweep, x: str = "depth", noise: float | None = None, ax=None,
                      xlabel: str = "maxDepth of the decision tree (model complexity)",
                      ylabel: str = "RMSE of log price"):
    """Training and validation error of a complexity sweep (columns ``x``, ``train_rmse``,
    ``val_rmse``), with the lowest validation error marked and the two failure sides named."""
    ax = _axes(ax, (7, 4.2))
    ax.plot(sweep[x], sweep["train_rmse"], "o-", label="training RMSE")
    ax.plot(sweep[x], sweep["val_rmse"], "s-", label="validation RMSE")
    best = sweep.loc[sweep["val_rmse"].idxmin(), x]
    ax.axvline(best, color="tab:green", linestyle="--", label=f"lowest validation RMSE ({x} {best})")
    if noise is not None:
        ax.axhline(noise, color="grey", linestyle=":", label=f"noise the generator adds (sd {noise})")
    ax.text(0.02, 0.04, "← high bias\n(underfitting)", transform=ax.transAxes, color="tab:blue")
    ax.text(0.98, 0.04, "high variance →\n(overfitting)", transform=ax.transAxes, color="tab:red", ha="right")
    ax.set(xlabel=xlabel, ylabel=ylabel, title="Training vs validation error as complexity grows")
    ax.set_xticks(list(sweep[x]))
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=9)
    return ax


def boosting_curves(train_curve, val_curve, reference: float | None = None,
                    reference_label: str = "reference", ax=None,
                    xlabel: str = "number of boosted trees", ylabel: str = "RMSE of log price"):
    """Training and validation error after 1, 2, 3, ... boosted trees, with an optional level to
    compare with (another model's validation error)."""
    ax = _axes(ax, (7, 3.8))
    rounds = range(1, len(train_curve) + 1)
    ax.plot(rounds, train_curve, label="training RMSE")
    ax.plot(rounds, val_curve, label="validation RMSE")
    if reference is not None:
        ax.axhline(reference, color="tab:green", linestyle="--", label=reference_label)
    ax.set(xlabel=xlabel, ylabel=ylabel, title="Boosting: each tree corrects the ensemble so far",
           xticks=range(0, len(train_curve) + 1, 5))
    ax.legend()
    return ax
