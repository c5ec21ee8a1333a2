"""Exercises of week 2, lesson 5: hyperparameter search with Hyperopt (grid, random, Bayesian).

The lesson tunes a support vector classifier on ``breast_cancer``; the exercises mend a broken
k-nearest-neighbours objective on ``penguins`` (label ``sex``), recover the real settings of an
``hp.choice`` search on ``churn`` and refit its model, run a TPE search of a regression tree on
``diabetes``, and choose a search method or a Trials class for scenarios the page never runs.
Every judge recomputes the truth from ``course.datasets``, never from the lesson's variables, and
names the mistake in one sentence; the answers each judge was written against are in
``tests/wrong_answers`` and ``tests/right_answers``.
"""
from __future__ import annotations

import math
import numbers

from course.checks import CheckFailed, Exercise, describe, expect, expect_type

LESSON = "05-hyperparameter-search"
PENGUIN_FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
CHURN_NUMBERS = ["tenure_months", "monthly_charges", "support_calls", "senior_citizen"]
CHURN_CATEGORIES = ["contract", "internet_service", "payment_method"]
K_RANGE = (1, 80)          # n_neighbors of knn_space
K_PROBES = (1, 6, 40, 75)  # where the judge calls the learner's objective (validation and training orders differ)
TREE_BUDGET = 20
TREE_RANGES = {"max_depth": (2, 12), "min_samples_leaf": (1, 60)}
CHURN_SEED, CHURN_EVALS = 7, 15
SCENARIOS = {  # letter -> (the pick, what the scenario needs, without naming the pick)
    "A": ("grid", "the auditors need the score of every one of the 6 listed combinations, not a sample of them"),
    "B": ("random", "all 64 trials start at the same moment, so no trial can use another's result, and with few "
                    "of the 8 hyperparameters mattering each trial should try fresh values of every one"),
    "C": ("tpe", "the 25 trials run one after another and each is expensive, so each new setting should be "
                 "chosen from the results so far"),
    "D": ("SparkTrials", "a scikit-learn model trains on one machine: the idle workers only help if each trial "
                         "runs on one of them"),
    "E": ("Trials", "a Spark ML model already spreads each fit over the whole cluster: its trials should run "
                    "from the driver, one after another"),
}
PICKS = ("grid", "random", "tpe", "Trials", "SparkTrials")
_CACHE: dict[object, object] = {}


def _memo(key, compute):
    """Computed once per kernel: a second check refits nothing."""
    if key not in _CACHE:
        _CACHE[key] = compute()
    return _CACHE[key]


def _whole(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


# --- Exercise 1: fix a broken objective --------------------------------------------------

def _penguin_split():
    def load():
        from sklearn.model_selection import train_test_split

        from course import datasets

        penguins = datasets.load("penguins").dropna(subset=[*PENGUIN_FEATURES, "sex"])
        return train_test_split(penguins[PENGUIN_FEATURES], penguins["sex"], test_size=0.3,
                                random_state=0, stratify=penguins["sex"])
    return _memo("penguins", load)


def _knn_scores(k: int) -> tuple[float, float]:
    """(validation accuracy, training accuracy) of the scaled k-NN with ``k`` neighbours."""
    def compute():
        from sklearn.neighbors import KNeighborsClassifier
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        x_train, x_val, y_train, y_val = _penguin_split()
        model = make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=k)).fit(x_train, y_train)
        return model.score(x_val, y_val), model.score(x_train, y_train)
    return _memo(("knn", k), compute)


def _loss_of(result, where: str) -> float:
    """The loss fmin would read from an objective's return value."""
    if isinstance(result, dict):
        expect("loss" in result, f"{where} returns a dictionary without a \"loss\" key: fmin reads the loss there")
        expect(result.get("status") == "ok", f"{where} returns a dictionary whose \"status\" is not STATUS_OK, "
                                             "so fmin would record the trial as failed")
        result = result["loss"]
    expect(isinstance(result, numbers.Real) and not isinstance(result, bool) and math.isfinite(float(result)),
           f"{where} should return the loss, a number (or a dict with \"loss\" and \"status\"); got {describe(result)}")
    return float(result)


def _follows(losses: dict, scores: dict, sign: int = 1) -> bool:
    """True when a higher score always means a lower loss (sign=1) or a higher loss (sign=-1)."""
    keys = list(losses)
    return all((sign * (losses[a] - losses[b]) < 0) == (scores[a] > scores[b])
               for a in keys for b in keys if scores[a] != scores[b])


def form_knn(knn_objective, best_k) -> None:
    expect(callable(knn_objective), f"expected `knn_objective` to be a function of one dict; got {describe(knn_objective)}")
    expect(_whole(best_k), "expected `best_k` to be an int (fmin's `best` holds floats such as 7.0 for "
                           f"hp.quniform: convert it); got {describe(best_k)}")
    expect(K_RANGE[0] <= best_k <= K_RANGE[1], "`best_k` lies outside the search space (1 to 80 neighbours)")


def judge_knn(knn_objective, best_k) -> None:
    losses = {}
    for k in K_PROBES:
        try:
            result = knn_objective({"n_neighbors": float(k)})
        except CheckFailed:
            raise
        except Exception as exc:
            raise CheckFailed(f"`knn_objective` fails for n_neighbors = {float(k)}, a float as hp.quniform "
                              f"passes it ({type(exc).__name__}): scikit-learn wants an int") from None
        losses[k] = _loss_of(result, "`knn_objective`")
    val = {k: _knn_scores(k)[0] for k in K_PROBES}
    train = {k: _knn_scores(k)[1] for k in K_PROBES}
    if not _follows(losses, val):
        expect(not _follows(losses, val, sign=-1),
               "`knn_objective` gives the most accurate model the highest loss, but fmin minimises the loss: "
               "the search then hunts for the worst k")
        expect(not (_follows(losses, train) or _follows(losses, train, sign=-1)),
               "`knn_objective` scores the penguins the model was fitted on: training accuracy rewards "
               "memorising (k = 1 is perfect there); score the validation penguins")
        raise CheckFailed("the loss of `knn_objective` does not go down as the validation accuracy goes up")
    expect(_knn_scores(int(best_k))[0] >= _knn_scores(5)[0],
           "`best_k` is less accurate on the validation penguins than the default k = 5: was it taken from "
           "a search with the fixed objective, 20 TPE evaluations?")


# --- Exercise 2: recover the real settings of an hp.choice search -------------------------

def churn_space():
    """The search space of the lesson's churn search (the same code as the notebook's)."""
    from hyperopt import hp

    return {"max_depth": hp.choice("max_depth", [3, 5, 8, None]),
            "criterion": hp.choice("criterion", ["gini", "entropy"]),
            "class_weight": hp.choice("class_weight", [None, "balanced"]),
            "min_samples_leaf": hp.uniformint("min_samples_leaf", 1, 50)}


def _churn_data():
    def load():
        import pandas as pd
        from sklearn.model_selection import train_test_split

        from course import datasets

        churn = datasets.load("churn")
        features = pd.get_dummies(churn[CHURN_NUMBERS + CHURN_CATEGORIES], dtype=float)
        return train_test_split(features, churn["churn"], test_size=0.25, random_state=0, stratify=churn["churn"])
    return _memo("churn", load)


def _churn_search():
    """(raw best, real settings, trials) of the lesson's churn search, rerun with its seed."""
    def run():
        import numpy as np
        from hyperopt import Trials, fmin, space_eval, tpe
        from sklearn.model_selection import cross_val_score
        from sklearn.tree import DecisionTreeClassifier

        x_train, _, y_train, _ = _churn_data()

        def objective(params):
            tree = DecisionTreeClassifier(random_state=0, **params)
            return -cross_val_score(tree, x_train, y_train, cv=3, scoring="roc_auc").mean()

        trials = Trials()
        best = fmin(objective, churn_space(), algo=tpe.suggest, max_evals=CHURN_EVALS, trials=trials,
                    rstate=np.random.default_rng(CHURN_SEED), show_progressbar=False)
        return best, space_eval(churn_space(), best), trials
    return _memo("churn-search", run)


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return False


def form_settings(best_settings, churn_tree) -> None:
    expect_type(best_settings, dict, "`best_settings`")
    keys = set(churn_space())
    expect(set(best_settings) == keys, f"`best_settings` should have one entry per hyperparameter of "
                                       f"`churn_space`: {', '.join(sorted(keys))}")
    from sklearn.tree import DecisionTreeClassifier

    expect_type(churn_tree, DecisionTreeClassifier, "`churn_tree`")


def judge_settings(best_settings, churn_tree) -> None:
    raw, truth, trials = _churn_search()
    if not all(_same(best_settings[k], truth[k]) for k in truth):
        expect(not any(isinstance(v, (list, tuple)) for v in best_settings.values()),
               "`best_settings` holds lists: those are a trial's raw record of the index it drew; "
               "turn the best point into values")
        expect(not all(_same(best_settings[k], raw[k]) for k in truth),
               "`best_settings` holds what fmin returned: for hp.choice that is the position in the "
               "option list, not the option")
        last = trials.trials[-1]["misc"]["vals"]
        from hyperopt import space_eval

        expect(not all(_same(best_settings[k], v) for k, v in
                       space_eval(churn_space(), {n: vals[0] for n, vals in last.items()}).items()),
               "`best_settings` is the last trial of the search, not the best one (the lowest loss)")
        wrong = sorted(k for k in truth if not _same(best_settings[k], truth[k]))
        raise CheckFailed(f"`best_settings` has a wrong value for {wrong[0]}: is every index mapped to "
                          "the option it points to (counting from 0)?")
    params = churn_tree.get_params()
    expect(all(_same(params[k], truth[k]) for k in truth),
           "`churn_tree` was built with other settings than those of the best trial")
    expect(hasattr(churn_tree, "tree_"), "`churn_tree` is not fitted yet: fmin never refits the best model, "
                                          "call `.fit(...)` on the training rows")
    x_train, x_test, y_train, _ = _churn_data()
    from sklearn.tree import DecisionTreeClassifier

    reference = _memo("churn-tree", lambda: DecisionTreeClassifier(random_state=0, **truth)
                      .fit(x_train, y_train).predict(x_test))
    expect(churn_tree.n_features_in_ == x_train.shape[1] and (churn_tree.predict(x_test) == reference).all(),
           "`churn_tree` predicts other classes than a tree with those settings and random_state=0 fitted "
           "on `X_churn_train`: check the rows it was fitted on and its random_state")


# --- Exercise 3: tune a regression tree with TPE ------------------------------------------

def _tree_r2(depth: int, leaf: int, on_training: bool = False) -> float:
    def compute():
        from sklearn.model_selection import cross_val_score
        from sklearn.tree import DecisionTreeRegressor

        from course import datasets

        diabetes = datasets.load("diabetes")
        x, y = diabetes.drop(columns="target"), diabetes["target"]
        model = DecisionTreeRegressor(max_depth=depth, min_samples_leaf=leaf, random_state=0)
        if on_training:
            return model.fit(x, y).score(x, y)
        return cross_val_score(model, x, y, cv=5).mean()
    return _memo(("tree", depth, leaf, on_training), compute)


def _trial_setting(trial) -> tuple[int, int]:
    vals = trial["misc"]["vals"]
    expect(set(TREE_RANGES) <= set(vals), "`tree_trials` was not filled by a search over `tree_space`")
    return int(vals["max_depth"][0]), int(vals["min_samples_leaf"][0])


def form_tree(tree_trials, best_tree_params) -> None:
    from hyperopt import Trials

    expect_type(tree_trials, Trials, "`tree_trials` (the Trials object you passed to fmin)")
    expect_type(best_tree_params, dict, "`best_tree_params`")
    expect(set(best_tree_params) == set(TREE_RANGES),
           "`best_tree_params` should have the keys max_depth and min_samples_leaf")
    for key, (low, high) in TREE_RANGES.items():
        value = best_tree_params[key]
        expect(_whole(value), f"`best_tree_params[\"{key}\"]` should be an int, as DecisionTreeRegressor takes "
                              f"it (hp.quniform gives floats such as 7.0); got {describe(value)}")
        expect(low <= value <= high, f"`best_tree_params[\"{key}\"]` lies outside `tree_space` ({low} to {high})")


def judge_tree(tree_trials, best_tree_params) -> None:
    n = len(tree_trials.trials)
    expect(n == TREE_BUDGET, f"`tree_trials` holds {n} trials; the budget is {TREE_BUDGET} evaluations "
                             "(and a Trials object reused for a second fmin keeps the first search's trials)")
    expect(all(t["result"].get("status") == "ok" for t in tree_trials.trials),
           "some trials of `tree_trials` failed: every trial should return a loss with STATUS_OK")
    settings = [_trial_setting(t) for t in tree_trials.trials]
    chosen = (best_tree_params["max_depth"], best_tree_params["min_samples_leaf"])
    expect(chosen in settings, "`best_tree_params` is not a setting your search tried: take it from fmin's result")
    scores = {s: _tree_r2(*s) for s in settings}
    top = max(scores.values())
    if scores[chosen] >= top - 1e-12:
        return
    expect(scores[chosen] > min(scores.values()) + 1e-12,
           "`best_tree_params` is the setting with the LOWEST cross-validated R² your search tried: fmin "
           "minimises the loss, so a score that is better when higher must be negated")
    training = {s: _tree_r2(*s, on_training=True) for s in settings}
    expect(training[chosen] < max(training.values()) - 1e-12,
           "`best_tree_params` is the setting that fits the training rows best: score each setting by "
           "cross-validation, not on the rows the tree was fitted on")
    raise CheckFailed("`best_tree_params` is not the setting with the highest mean 5-fold cross-validated R² "
                      "among your trials: check what your objective returns as the loss")


# --- Exercise 4: which search, which Trials ---------------------------------------------

def _normal(value) -> str:
    return str(value).strip().lower()


def form_choice(search_choice) -> None:
    expect_type(search_choice, dict, "`search_choice`")
    keys = {str(k).strip().upper() for k in search_choice}
    missing = sorted(set(SCENARIOS) - keys)
    expect(not missing, f"`search_choice` has no pick for scenario {', '.join(missing)}")
    extra = sorted(keys - set(SCENARIOS))
    expect(not extra, f"`{extra[0] if extra else ''}` is not a scenario of the table (A to E)")
    known = {_normal(p) for p in PICKS}
    for key, value in search_choice.items():
        expect(_normal(value) in known, f"`{value}` (scenario {key}) is not one of the picks of the list "
                                        "(grid, random, tpe, Trials, SparkTrials)")


def judge_choice(search_choice) -> None:
    given = {str(k).strip().upper(): _normal(v) for k, v in search_choice.items()}
    wrong = [k for k in sorted(SCENARIOS) if given[k] != _normal(SCENARIOS[k][0])]
    if wrong:
        more = f" ({len(wrong)} scenarios are wrong in all)" if len(wrong) > 1 else ""
        original = {str(k).strip().upper(): v for k, v in search_choice.items()}
        raise CheckFailed(f"scenario {wrong[0]}: `{original[wrong[0]]}` does not fit; "
                          f"{SCENARIOS[wrong[0]][1]}{more}")


q1 = Exercise(
    id=f"{LESSON}.q1", title="Exercise 1: fix a broken objective",
    syllabus=("S3.05", "D3.hyperopt"), names=("knn_objective", "best_k"),
    form=form_knn, judge=judge_knn,
    hints=("Three things are wrong in the objective: the type of the number of neighbours, the rows the "
           "accuracy is measured on, and the direction of the loss. The value in `best` needs a fix too.",
           "hp.quniform hands over floats such as 7.0 (`int(...)` converts them); `model.score(...)` on the "
           "validation penguins; fmin minimises `\"loss\"`, so a better model needs a lower loss.",
           "`return {\"loss\": <minus the validation accuracy>, \"status\": STATUS_OK}`; then "
           "`best_k = int(fmin(...)[\"n_neighbors\"])`"),
    solution_code=('def knn_objective(params):\n'
                   '    model = make_pipeline(StandardScaler(),\n'
                   '                          KNeighborsClassifier(n_neighbors=int(params["n_neighbors"])))\n'
                   '    model.fit(X_peng_train, y_peng_train)\n'
                   '    accuracy = model.score(X_peng_val, y_peng_val)\n'
                   '    return {"loss": -accuracy, "status": STATUS_OK}\n'
                   '\n'
                   'knn_space = {"n_neighbors": hp.quniform("n_neighbors", 1, 80, 1)}\n'
                   'knn_best = fmin(knn_objective, knn_space, algo=tpe.suggest, max_evals=20,\n'
                   '                rstate=np.random.default_rng(0), show_progressbar=False)\n'
                   'best_k = int(knn_best["n_neighbors"])'),
)

q2 = Exercise(
    id=f"{LESSON}.q2", title="Exercise 2: the real settings, and the final model",
    syllabus=("S3.05", "D3.hyperopt"), names=("best_settings", "churn_tree"),
    form=form_settings, judge=judge_settings,
    hints=("For every hp.choice, fmin reports which option the best trial drew, by its position in the list. "
           "Turn the positions back into the options, then train the final model yourself.",
           "Hyperopt has a function that evaluates a search space at a point such as `best`; the tree is "
           "`DecisionTreeClassifier(random_state=0, **settings)` fitted on the training rows.",
           "`best_settings = <hyperopt function>(churn_space, churn_best)`, then "
           "`churn_tree = DecisionTreeClassifier(random_state=0, **<the settings>).fit(<the training rows>)`"),
    solution_code=('best_settings = space_eval(churn_space, churn_best)\n'
                   'churn_tree = DecisionTreeClassifier(random_state=0, **best_settings)\n'
                   'churn_tree.fit(X_churn_train, y_churn_train)'),
)

q3 = Exercise(
    id=f"{LESSON}.q3", title="Exercise 3: tune a regression tree with TPE",
    syllabus=("S3.05", "S3.06", "D3.hyperopt"), names=("tree_trials", "best_tree_params"),
    form=form_tree, judge=judge_tree,
    hints=("An objective takes one setting from `tree_space`, scores it, and returns a loss that is LOWER "
           "for a better tree; fmin calls it 20 times and records every trial in the Trials object you give it.",
           "`cross_val_score(model, X_diab, y_diab, cv=5).mean()` is the mean R² (higher is better); "
           "`fmin(fn, space, algo=tpe.suggest, max_evals=..., trials=...)`; the values in `best` are floats.",
           "`def <name>(params): model = DecisionTreeRegressor(max_depth=int(...), min_samples_leaf=int(...), "
           "random_state=0); return {\"loss\": __, \"status\": STATUS_OK}`"),
    solution_code=('def tree_objective(params):\n'
                   '    model = DecisionTreeRegressor(max_depth=int(params["max_depth"]),\n'
                   '                                  min_samples_leaf=int(params["min_samples_leaf"]),\n'
                   '                                  random_state=0)\n'
                   '    r2 = cross_val_score(model, X_diab, y_diab, cv=5).mean()\n'
                   '    return {"loss": -r2, "status": STATUS_OK}\n'
                   '\n'
                   'tree_trials = Trials()\n'
                   'tree_best = fmin(tree_objective, tree_space, algo=tpe.suggest, max_evals=20,\n'
                   '                 trials=tree_trials, rstate=np.random.default_rng(1), show_progressbar=False)\n'
                   'best_tree_params = {name: int(value) for name, value in tree_best.items()}'),
)

q4 = Exercise(
    id=f"{LESSON}.q4", title="Exercise 4: which search, which Trials",
    syllabus=("S3.06", "S3.07", "D3.hyperopt"), names=("search_choice",),
    form=form_choice, judge=judge_choice, guessable=True,
    hints=("For each scenario ask: must every combination be scored, can a trial wait for earlier results, "
           "and is the model itself single-node or already distributed?",
           "A grid tries every combination; random draws are independent of each other; TPE learns from "
           "finished trials; SparkTrials spreads single-node trials over Spark tasks; Trials runs them one by "
           "one from the driver.",
           "`search_choice = {\"A\": \"__\", \"B\": \"__\", \"C\": \"__\", \"D\": \"__\", \"E\": \"__\"}`"),
    solution_code=('search_choice = {"A": "grid", "B": "random", "C": "tpe",\n'
                   '                 "D": "SparkTrials", "E": "Trials"}'),
)
