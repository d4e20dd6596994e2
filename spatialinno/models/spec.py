r"""Model specifications as data: which regressors are lagged and which spatial parameters exist.

Every model is a :class:`ModelSpec` interpreted by the one likelihood core in :mod:`.core`:

=======  =========  ==========  ============  =============================================
model    W X lags   rho (W y)   lambda (M u)   estimator
=======  =========  ==========  ============  =============================================
ols      no         no          no            OLS (within)
slx      yes        no          no            OLS (within) on [X, WX]
sar      no         yes         no            ML, concentrated over rho
sdm      yes        yes         no            ML, concentrated over rho
sem      no         no          yes           ML, concentrated over lambda
sdem     yes        no          yes           ML, concentrated over lambda
sac      no         yes         yes           ML, concentrated over (rho, lambda); W, M may differ
gns      yes        yes         yes           ML, concentrated over (rho, lambda) (general nesting)
=======  =========  ==========  ============  =============================================

The general nesting spatial model (GNS; Elhorst 2014, sec. 2.3),
:math:`y = \rho W y + X\beta + W X\theta + u,\ u = \lambda M u + \varepsilon`, nests all the
others; it is only weakly identified (Elhorst 2014, p. 11: the parameters of a GNS "cannot be
interpreted" when over-parameterised), so its likelihood is often flat in (rho, lambda).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ..errors import ModelOptionError

__all__ = ["ModelSpec", "MODELS", "TWO_W_MODELS", "get_spec", "FixedEffects", "FE_TYPES",
           "check_fe", "COV_TYPES", "EFFECTS_METHODS", "LEE_YU", "check_option", "option_error"]

ModelName = Literal["ols", "slx", "sar", "sdm", "sem", "sdem", "sac", "gns"]
FixedEffects = Literal["none", "unit", "time", "twoway"]
FE_TYPES: tuple[str, ...] = ("none", "unit", "time", "twoway")
#: ``cov_type=`` of :func:`spatialinno.models.fit` and :func:`~spatialinno.models.fit_two_w`.
COV_TYPES: tuple[str, ...] = ("auto", "oim", "hessian")
#: ``effects_method=`` of :func:`spatialinno.models.fit`.
EFFECTS_METHODS: tuple[str, ...] = ("simulation", "delta")
#: ``lee_yu=`` of :func:`spatialinno.models.fit` (``True`` is ``"transform"``, ``False``
#: ``"none"``).
LEE_YU: dict[object, str] = {True: "transform", False: "none", "transform": "transform",
                             "bias": "bias", "none": "none"}


def check_option(value: object, allowed: Sequence[object], option: str,
                 aliases: Sequence[str] = ()) -> None:
    """Raise :class:`~spatialinno.errors.ModelOptionError` unless ``value`` is in ``allowed``;
    the message lists the choices (and ``aliases``) and the closest ones to ``value``."""
    try:
        ok = value in allowed
    except TypeError:  # unhashable value
        ok = False
    if ok and not (isinstance(value, float) and value != value):
        return
    raise option_error(value, allowed, option, aliases)


def option_error(value: object, allowed: Sequence[object], option: str,
                 aliases: Sequence[str] = ()) -> ModelOptionError:
    """The :class:`~spatialinno.errors.ModelOptionError` of :func:`check_option`."""
    names = [str(a) for a in allowed] + [str(a) for a in aliases]
    close = difflib.get_close_matches(str(value).lower(), names, n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return ModelOptionError(
        f"{option}={value!r} is not known; expected one of "
        f"{', '.join(repr(a) for a in allowed)}"
        + (f" (aliases: {', '.join(repr(a) for a in aliases)})" if aliases else "") + f".{hint}")


@dataclass(frozen=True)
class ModelSpec:
    """What a model estimates.

    Attributes
    ----------
    name : str
        Short name (``"sdm"``).
    title : str
        Long name for summaries.
    wx : bool
        Whether spatially lagged regressors ``W X`` enter (SLX, SDM, SDEM).
    rho : bool
        Whether the spatial lag of the dependent variable ``rho W y`` enters.
    lam : bool
        Whether the disturbance follows ``u = lambda M u + e``.
    """

    name: str
    title: str
    wx: bool
    rho: bool
    lam: bool

    @property
    def is_ml(self) -> bool:
        """True when the model has a spatial autoregressive parameter (estimated by ML)."""
        return self.rho or self.lam


MODELS: dict[str, ModelSpec] = {
    "ols": ModelSpec("ols", "Non-spatial panel regression", False, False, False),
    "slx": ModelSpec("slx", "Spatial lag of X (SLX)", True, False, False),
    "sar": ModelSpec("sar", "Spatial autoregressive (SAR / spatial lag)", False, True, False),
    "sdm": ModelSpec("sdm", "Spatial Durbin (SDM)", True, True, False),
    "sem": ModelSpec("sem", "Spatial error (SEM)", False, False, True),
    "sdem": ModelSpec("sdem", "Spatial Durbin error (SDEM)", True, False, True),
    "sac": ModelSpec("sac", "Spatial autoregressive combined (SAC / SARAR)", False, True, True),
    "gns": ModelSpec("gns", "General nesting spatial (GNS)", True, True, True),
}


#: Models with separate spatial lags for within- and between-group neighbours,
#: :math:`y = \rho_w W_w y + \rho_b W_b y + X\beta [+ W X\theta]`
#: (:func:`spatialinno.models.fit_two_w`). Kept apart from :data:`MODELS`, which lists the
#: one-W models every generic routine iterates over.
TWO_W_MODELS: dict[str, ModelSpec] = {
    "sar2w": ModelSpec("sar2w", "SAR with within/between-group lags (SAR-2W)", False, True, False),
    "sdm2w": ModelSpec("sdm2w", "Spatial Durbin with within/between-group lags (SDM-2W)", True,
                       True, False),
}


def get_spec(model: str | ModelSpec) -> ModelSpec:
    """Return the :class:`ModelSpec` for ``model`` (case-insensitive name) or raise."""
    if isinstance(model, ModelSpec):
        return model
    key = str(model).lower()
    if key == "sarar":
        key = "sac"
    if key in TWO_W_MODELS:
        return TWO_W_MODELS[key]
    if key not in MODELS:
        check_option(model, sorted(MODELS) + sorted(TWO_W_MODELS), "model", aliases=["sarar"])
    return MODELS[key]


def check_fe(effects: str) -> str:
    """Validate the fixed-effects option and return its canonical name."""
    aliases = {"individual": "unit", "entity": "unit", "twoways": "twoway", "two-way": "twoway",
               "pooled": "none", "period": "time"}
    key = aliases.get(str(effects).lower(), str(effects).lower())
    if key not in FE_TYPES:
        check_option(effects, FE_TYPES, "effects", aliases=list(aliases))
    return key
