"""Exceptions and warnings raised by spatialinno.

Every message says what was expected, what was received and how to proceed. Callers can catch
the specific classes below (all derive from :class:`SpatialinnoError` or
:class:`SpatialinnoWarning`) instead of parsing text.
"""

from __future__ import annotations


class SpatialinnoError(Exception):
    """Base class of every error raised deliberately by spatialinno."""


class OptionError(SpatialinnoError, ValueError):
    """An option has a value outside the documented choices (the message lists them)."""


class DataFileError(SpatialinnoError, ValueError):
    """A data file cannot be read, or lacks a required column."""


class JoinError(SpatialinnoError, ValueError):
    """Rows of a panel could not be matched to units without loss.

    The :class:`~spatialinno.panel.JoinReport` that explains every problem is attached as
    ``.report``.
    """

    def __init__(self, message: str, report: object | None = None) -> None:
        super().__init__(message)
        self.report = report


class MergePolicyError(SpatialinnoError, ValueError):
    """Rows of abolished (merged) units are present but no merge policy was chosen."""


class BoundaryError(SpatialinnoError, ValueError):
    """A boundary layer fails a check (missing column, duplicate or unknown codes, bad geometry)."""


class UnknownUnitError(SpatialinnoError, KeyError):
    """A name or code does not resolve to any unit of the registry."""

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0]) if self.args else ""


class SpatialinnoWarning(UserWarning):
    """Base class of warnings for input that is legal but suspicious."""


class HistoricalMatchWarning(SpatialinnoWarning):
    """A historical name or code was used outside the years in which it was valid."""


class BoundaryChangeWarning(SpatialinnoWarning):
    """A unit's territory changed within the panel period (e.g. a county moved between cities)."""


class IndexInputError(SpatialinnoError, ValueError):
    """The specification of an index or its input panel is invalid (columns, directions, weights)."""


class MissingValueError(SpatialinnoError, ValueError):
    """Missing cells where a method needs complete data; the message lists every cell."""


class ConstantIndicatorError(SpatialinnoError, ValueError):
    """An indicator has zero variance, so it carries no information for weighting."""


class FilledValuesWarning(SpatialinnoWarning):
    """Missing values were filled (e.g. by opted-in interpolation); the report says which."""


class UnbalancedPanelWarning(SpatialinnoWarning):
    """Some units lack some years; the join report lists the missing unit-years."""


class WeightsError(SpatialinnoError, ValueError):
    """A weights matrix cannot be built, checked or aligned (the message names the units)."""


class IslandWarning(SpatialinnoWarning):
    """Some units have no neighbour (zero rows); the message names them and the options."""


class EsdaError(SpatialinnoError, ValueError):
    """The data and the weights cannot be used together (units, years, options)."""


class EsdaWarning(SpatialinnoWarning):
    """Legal but suspicious input to an ESDA function (e.g. a W that is not row-standardised)."""


class PlotError(SpatialinnoError, ValueError):
    """A figure cannot be drawn from the given inputs (unknown year, variable, scheme...)."""


class FontNotFoundError(PlotError):
    """Chinese labels were requested but no font covering CJK ideographs is available."""


# Spatial panel models

class ModelSpecificationError(SpatialinnoError, ValueError):
    """An option, formula or array shape is invalid for the requested model."""


class UnbalancedPanelError(SpatialinnoError, ValueError):
    """The panel is not balanced; ``.missing`` lists every missing (unit, time) pair."""

    def __init__(self, message: str, missing: list[tuple[object, object]] | None = None) -> None:
        super().__init__(message)
        self.missing = missing or []


class WeightsAlignmentError(SpatialinnoError, ValueError):
    """The weights' unit codes do not match the panel's units (missing/extra codes are named)."""


class BoundaryWarning(SpatialinnoWarning):
    """A spatial parameter (rho or lambda) was estimated close to a bound of its space."""


class FlatLikelihoodWarning(SpatialinnoWarning):
    """The concentrated log-likelihood is nearly flat at the optimum (weak identification)."""


class EffectsTruncationWarning(SpatialinnoWarning):
    """Effects computed by a truncated power series with rho close to its bound are understated."""


class CollinearityWarning(SpatialinnoWarning):
    """The (transformed) regressor matrix is nearly singular."""


# Runner

class AnalysisFileError(SpatialinnoError, ValueError):
    """An analysis file is invalid; the message names the file, line and key of every problem."""


class AnalysisRunError(SpatialinnoError, RuntimeError):
    """A step of an analysis failed on the data (unknown variable, W for units not in the panel)."""


# Runner: output folder and command line

class OutputFolderError(SpatialinnoError, ValueError):
    """The output folder cannot be used: it holds files a run did not write, or its manifest is
    missing, damaged or not ours. Nothing in it was changed."""


class GridError(SpatialinnoError, RuntimeError):
    """A robustness grid cannot run where it was asked to: the Dask scheduler cannot be reached,
    or a local cluster was asked for no worker."""


# Reading yearbook files

class FileFormatError(DataFileError):
    """A file is not a table that can be read as it is: a directory, an empty or header-only
    file, an old binary ``.xls`` without xlrd, a zip or HTML page that is not a workbook, rows
    with more cells than the header has names, a column with values but no name."""


class FileEncodingError(DataFileError):
    """A text file decodes under none of the encodings tried; ``.offset`` is the first byte that
    failed (0-based) under the first encoding tried."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.offset = offset


class DuplicateHeaderError(DataFileError):
    """Two or more columns share a name; ``.duplicates`` maps each name to its 1-based column
    positions (never renamed ``gdp.1`` silently)."""

    def __init__(self, message: str, duplicates: dict[str, list[int]] | None = None) -> None:
        super().__init__(message)
        self.duplicates = duplicates or {}


class ColumnNotFoundError(DataFileError):
    """A column the call needs (unit, time, province, an override) is not in the header; the
    message shows the first lines as read and suggests ``header=`` / ``skiprows=``."""


class NumericCellError(DataFileError):
    """Cells of a numeric column are neither numbers nor placeholders of missing values.

    ``.cells`` is a DataFrame with every such cell: source, line, row, column, value, reason.
    """

    def __init__(self, message: str, cells: object | None = None) -> None:
        super().__init__(message)
        self.cells = cells


class PlaceholderWarning(SpatialinnoWarning):
    """Placeholder cells (—, …, NA, /, empty ...) of numeric columns were read as missing values;
    ``report.placeholders`` names each cell (file, line, column, original value)."""


class YearCoverageWarning(SpatialinnoWarning):
    """Rows have years outside those covered by the registry's code tables (2000-2024): their
    names and codes are matched without knowledge of changes in those years."""

# Index, ESDA and plots: input checks
#
# Subclasses of the stage errors above, so that ``except IndexInputError`` / ``except EsdaError``
# / ``except PlotError`` keep catching them; the ``*OptionError`` classes are also
# :class:`OptionError`, so one ``except OptionError`` catches a bad option in any stage.

class IndexOptionError(IndexInputError, OptionError):
    """An option of :func:`~spatialinno.index.build_index` has an invalid value or type
    (method, weights scheme, pooled, shift, topsis_normalization, unit/time/name, interpolate)."""


class IndicatorTypeError(IndexInputError):
    """An indicator column does not hold real numbers (text such as ``"—"``, numbers stored as
    text, True/False, complex numbers, dates); the message names the column and the first cells."""


class DegenerateWeightingError(IndexInputError):
    """A weighting scheme is undefined on these data: CRITIC with every pair of indicators
    perfectly correlated, or entropy with every indicator at maximal entropy (e.g. a ``shift``
    far larger than the normalised range). The message names the indicators and the block."""


class IndexWarning(SpatialinnoWarning):
    """Legal but suspicious input to an index: an indicator or dimension score that is constant
    up to rounding, a ``shift`` larger than the normalised range, negative values under vector
    normalisation."""


class EsdaOptionError(EsdaError, OptionError):
    """An option of an ESDA function has an invalid value or type (variable, years,
    permutations, alpha, adjust, seed, two_tailed, min_units)."""


class ConstantVariableError(EsdaError):
    """The variable is constant in a year, so the statistic is undefined there (zero variance:
    Moran's I, Geary's C, LISA), or Getis-Ord G has no pair of non-zero values; names the
    variable and the years."""


class PlotOptionError(PlotError, OptionError):
    """An option of a plotting function has an invalid value or type (year, k, ncols, cmap,
    level, alpha, the kind of result passed)."""


class PlotWarning(SpatialinnoWarning):
    """Legal but suspicious input to a figure: units of the data not on the boundary layer (not
    drawn), fewer distinct values than classes."""


class AgglomerationError(SpatialinnoError, ValueError):
    """Unknown scope, or overlapping memberships where a partition is needed."""


class UnknownAgglomerationError(AgglomerationError):
    """An agglomeration scope name is not in the registry (the message suggests close names)."""

# Models and weights: input checks

class ModelOptionError(OptionError, ModelSpecificationError):
    """A model option (``model=``, ``effects=``, ``cov_type=``, ``logdet=`` ...) has an unknown
    value; the message lists the allowed choices and the closest ones."""


class FormulaError(ModelSpecificationError):
    """A formula cannot be parsed or evaluated on the data (syntax, missing ``~``, ...)."""


class UnknownVariableError(FormulaError):
    """A formula (or ``unit=``/``time=``) names a column the data lack; ``.unknown`` lists them
    and ``.suggestions`` maps each to its closest column names."""

    def __init__(self, message: str, unknown: list[str] | None = None,
                 suggestions: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.unknown = list(unknown or [])
        self.suggestions = dict(suggestions or {})


class NonNumericTermError(FormulaError):
    """A formula term refers to a text, object or categorical column without ``C(...)``;
    ``.column`` is the column and ``.values`` its first offending values."""

    def __init__(self, message: str, column: str = "", values: list[object] | None = None) -> None:
        super().__init__(message)
        self.column = column
        self.values = list(values or [])


class NonFiniteDataError(MissingValueError, ModelSpecificationError):
    """NaN or inf in the dependent variable, a regressor or the unit/time columns; ``.cells``
    lists ``(variable, row)`` pairs, ``row`` a ``(unit, time)`` pair or a row position."""

    def __init__(self, message: str, cells: list[tuple[str, object]] | None = None) -> None:
        super().__init__(message)
        self.cells = list(cells or [])


class DuplicateRowsError(UnbalancedPanelError):
    """A (unit, time) pair appears in more than one row; ``.duplicates`` lists the pairs."""

    def __init__(self, message: str, duplicates: list[tuple[object, object]] | None = None) -> None:
        super().__init__(message)
        self.duplicates = list(duplicates or [])


class SingularDesignError(ModelSpecificationError):
    """The coefficients are not identified: a regressor absorbed by the fixed effects, perfectly
    collinear regressors, one period with unit effects, too few observations. ``.columns`` names
    the regressors at fault."""

    def __init__(self, message: str, columns: list[str] | None = None) -> None:
        super().__init__(message)
        self.columns = list(columns or [])


class DegenerateOutcomeError(SingularDesignError):
    """The dependent variable carries nothing to explain: all zero, constant, without variation
    left after the fixed-effects transform, or an exact combination of the regressors."""


class WeightsValueError(WeightsError):
    """A weights matrix has NaN, inf, negative or diagonal entries, or is not numeric;
    ``.cells`` lists ``(row code, column code, value)``."""

    def __init__(self, message: str, cells: list[tuple[str, str, float]] | None = None) -> None:
        super().__init__(message)
        self.cells = list(cells or [])


class WeightsCodesError(WeightsError, WeightsAlignmentError):
    """The codes of a weights matrix do not fit it or the data: wrong shape, duplicate codes,
    codes missing from W or W codes missing from the data (all named)."""


class EmptyWeightsError(WeightsError, ModelSpecificationError):
    """A weights matrix has no links at all (every row is zero), so no spatial parameter is
    identified."""


class IslandError(WeightsError, ModelSpecificationError):
    """Units without neighbours (zero rows of W) make the requested computation impossible;
    ``.islands`` names them and the message lists the options."""

    def __init__(self, message: str, islands: list[str] | None = None) -> None:
        super().__init__(message)
        self.islands = list(islands or [])


class WeightsFileError(WeightsError, DataFileError):
    """A weights file (GAL, GWT) is missing or malformed; the message names the file and line."""


class EstimationError(SpatialinnoError, RuntimeError):
    """The estimator cannot give a valid result on these data (e.g. the Lee-Yu bias correction
    moves the spatial parameter out of its parameter space); the message says what to try."""


class TooFewPeriodsError(ModelSpecificationError):
    """A dynamic spatial panel needs at least three periods: one is spent on the initial
    observation y_0 and at least two remain for the within transformation."""


class UnstableDynamicWarning(SpatialinnoWarning):
    """A dynamic spatial panel was fitted with ``stability="warn"`` and its estimate violates the
    stability condition: the estimates are reported, the long-run effects are not."""


class UnevenPeriodsError(ModelSpecificationError):
    """The periods of a dynamic panel are unevenly spaced (a gap), so y(t-1) would be a different
    lag in different periods; the message names the gap."""


class UnstableDynamicError(EstimationError):
    """The estimate of a dynamic spatial panel violates the stability condition: an eigenvalue
    of A = (I - rho W)^-1 (tau I + eta W) has modulus >= 1 (explosive), or lies so close to one
    (near unit root) that the stable-case bias correction does not apply. ``.modulus`` holds the
    largest modulus."""

    def __init__(self, message: str, modulus: float | None = None) -> None:
        super().__init__(message)
        self.modulus = modulus


class BadScaleError(ModelSpecificationError):
    """A variable's magnitude (e.g. 1e200 or 1e-200) is outside what the estimator can square in
    double precision; the message names it and says how to rescale."""

# ---- Disparity and distribution dynamics (spatialinno.disparity, spatialinno.distribution) ----

class DisparityError(SpatialinnoError, ValueError):
    """Data cannot be used for an inequality measure, a decomposition, a density or a
    convergence test: negative or zero values where positive ones are needed, missing values,
    a group with one unit, a year with fewer than two groups, too few periods. The message
    names the units, groups and years at fault."""


class DisparityOptionError(DisparityError, OptionError):
    """An option of a disparity, density or convergence function has an invalid value or type
    (grouping, bandwidth, bootstrap draws, level, seed, model, span, time_trim...)."""


class DisparityWarning(SpatialinnoWarning):
    """Legal but suspicious input to a disparity or convergence function (units outside every
    group left out, very few periods for the log t test, a club failing its own test)."""


# Standard national maps

class MaritimeLineError(BoundaryError):
    """The shipped maritime boundary line (``shapefiles/maritime_line.csv``, the dashed line of
    China's standard maps) is missing or malformed; the message says how to rebuild it."""


class MapFrameError(PlotError):
    """A map cannot be framed as asked: no unit of the data is on the boundary layer, so there
    is nothing to show or to zoom to."""


# --------------------------------------------------------------------------------------------
# Dynamics, coupling and geographical detector (spatialinno.dynamics, .coupling, .geodetector)
# --------------------------------------------------------------------------------------------


class DynamicsError(SpatialinnoError, ValueError):
    """Invalid input to the transition-dynamics, coupling or geographical-detector modules."""


class DynamicsOptionError(DynamicsError, OptionError):
    """An option of :mod:`spatialinno.dynamics`, :mod:`~spatialinno.coupling` or
    :mod:`~spatialinno.geodetector` has a value outside the documented choices."""


class PanelGapError(DynamicsError):
    """Transitions need every unit in every year of the chain; ``.cells`` lists the missing
    ``(unit, year)`` pairs (absent rows or missing values)."""

    def __init__(self, message: str, cells: list[tuple[str, int]] | None = None) -> None:
        super().__init__(message)
        self.cells = list(cells or [])


class EmptyClassError(DynamicsError):
    """A class (state) of a Markov chain, or a stratum, has no observation; the message names it
    and says how to choose other cut-offs."""


class IndexRangeError(DynamicsError):
    """A system index given to the coupling coordination model lies outside [0, 1]; the message
    names the system, units and years."""


class SingleStratumError(DynamicsError):
    """A factor of the geographical detector has (or was discretised into) one stratum only, so
    it cannot stratify anything."""


class DynamicsWarning(SpatialinnoWarning):
    """Legal but suspicious input or results of the dynamics, coupling or geodetector modules."""


class TableOptionError(OptionError):
    """An option of a publication table or exporter is invalid (an unknown output format, a
    keep/drop/order pattern that matches no variable, tests not one list per model); the message
    says what is accepted."""


class EtableOptionError(TableOptionError, ModelSpecificationError):
    """An option of :func:`spatialinno.models.etable` or ``effects_table`` is invalid."""
# ---- Policy evaluation: spatial difference-in-differences (spatialinno.policy) ----

class PolicyError(SpatialinnoError, ValueError):
    """A treatment or a policy evaluation cannot be built on these data; the message names the
    units, years or columns at fault and says how to proceed."""


class PolicyOptionError(PolicyError, OptionError):
    """An option of a policy function has an invalid value or type (programme, level, status,
    window, draws, model, exposure ...); the message lists the choices."""


class UnknownProgrammeError(PolicyOptionError):
    """A programme name that is not in the shipped pilot registry (the message lists them)."""


class NoControlUnitsError(PolicyError):
    """No never-treated or not-yet-treated unit is left to compare the treated units with (every
    unit is treated from the same period on), so the policy effect is not identified."""


class TreatmentReversalError(PolicyError):
    """The treatment switches off (1 then 0) for some units: staggered adoption needs an
    absorbing treatment. ``.units`` names them."""

    def __init__(self, message: str, units: list[str] | None = None) -> None:
        super().__init__(message)
        self.units = list(units or [])


class TreatedBeforePanelError(PolicyError):
    """Units are treated in (or before) the first period of the panel, so they have no
    pre-treatment period. ``.units`` names them with their adoption years."""

    def __init__(self, message: str, units: list[str] | None = None) -> None:
        super().__init__(message)
        self.units = list(units or [])


class PilotNotInPanelError(PolicyError):
    """Pilot units of the registry are missing from the panel. ``.units`` names them."""

    def __init__(self, message: str, units: list[str] | None = None) -> None:
        super().__init__(message)
        self.units = list(units or [])


class PlaceboDrawsError(PolicyOptionError):
    """Too few placebo draws for the p-value asked: with N draws the smallest attainable
    permutation p-value is 1 / (N + 1)."""
