"""Key results of notebook 01_clean_survey: who answered a survey round, which models they reported,
and what cleaning the export changed (built by :func:`helpers.data.survey.key_results`)."""

from __future__ import annotations

from dataclasses import dataclass

from helpers.results.base import KeyResults


@dataclass(frozen=True)
class Response:
    """Who answered one survey round.

    rows: kommuner that submitted a response (one row each after cleaning).
    answered_model: of them, those that answered the model question (model 1-5).
    response_rate: ``answered_model`` over the 98 kommuner.
    cooperating: kommuner that reported a model of cooperation (1-4).
    digital_strategy_yes: kommuner whose library takes part in the kommune's digital strategy work.
    digital_strategy_answered: kommuner that answered that question.
    """

    rows: int
    answered_model: int
    response_rate: float
    cooperating: int
    digital_strategy_yes: int
    digital_strategy_answered: int


@dataclass(frozen=True)
class ModelCount:
    """Kommuner that reported one model in a round.

    model: the model code (0 = did not answer the model question, 1-4 cooperation, 5 none).
    label: the model's Danish name (``helpers.core.cooperation.LABELS``).
    kommuner: how many kommuner reported it.
    share_of_rows: ``kommuner`` over the kommuner that submitted a response.
    share_of_98: ``kommuner`` over the 98 kommuner.
    """

    model: int
    label: str
    kommuner: int
    share_of_rows: float
    share_of_98: float


@dataclass(frozen=True)
class CleanSurveyResults(KeyResults):
    """The key results of one run of 01_clean_survey.

    year: the survey round.
    response: who answered (:class:`Response`).
    models: kommuner per model, 0 first, then the cooperation ordering of the round, lowest first.
    changes_by_rule: rows of the cleaning log per rule (what was repaired, dropped or redacted), most first.
    """

    prefix = "01_clean_survey"

    year: int
    response: Response
    models: tuple[ModelCount, ...]
    changes_by_rule: dict[str, int]

    def kommuner(self, model: int) -> int:
        """Kommuner that reported ``model`` (0 when none did)."""
        return next((m.kommuner for m in self.models if m.model == model), 0)
