"""The exercises' checks, in one namespace: a notebook calls ``pk.exercises.check_*`` (and
``tools/assignments.py`` finds those calls to make nbgrader's autograder cells).

Each ``check_*`` function takes the learner's answer, compares it with a reference computed there, and
either prints a short "correct" message or raises ``AssertionError`` saying what is off. The code lives
by notebook: :mod:`percepkit.exercises_01_05` and :mod:`percepkit.exercises_06_09`.
"""

from __future__ import annotations

from .exercises_01_05 import (
    check_feature_distance,
    check_gram_hw,
    check_gram_matrix,
    check_l1_optimum,
    check_l2_optimum,
    check_lambda_rescale,
    check_pareto_front,
    check_raw_lambdas,
    check_receptive_field,
    gram_reference,
    lambda_rescale_reference,
    pareto_front_reference,
    raw_lambdas_reference,
)
from .exercises_06_09 import (
    check_blend_state,
    check_feature_extractor,
    check_preprocess,
    check_seed_fix,
    check_two_afc,
    preprocess_reference,
    two_afc_reference,
)

__all__ = [
    "check_l2_optimum", "check_l1_optimum",  # 01
    "check_feature_distance",  # 02
    "check_receptive_field",  # 03
    "check_gram_matrix", "check_gram_hw", "check_lambda_rescale", "gram_reference", "lambda_rescale_reference",  # 04
    "check_raw_lambdas", "check_pareto_front", "raw_lambdas_reference", "pareto_front_reference",  # 05
    "check_feature_extractor", "check_preprocess", "preprocess_reference",  # 06
    "check_seed_fix",  # 07
    "check_blend_state",  # 08
    "check_two_afc", "two_afc_reference",  # 09
]
