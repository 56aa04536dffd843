"""The --where condition language (S3Express-compatible `-cond` filters), pure logic, no eval.

    >>> from datetime import UTC, datetime
    >>> from s3safe.query import Clock, S3Facts, Subject, compile_where
    >>> cond = compile_where("s3_size_mb > 100 AND s3_age_days > 30", scope="s3")
    >>> clock = Clock(datetime(2024, 6, 1, tzinfo=UTC), zone=UTC)
    >>> obj = S3Facts(key="logs/big.gz", size=200 * 1024**2, last_modified=datetime(2024, 1, 1, tzinfo=UTC))
    >>> cond.evaluate(Subject(s3=obj, clock=clock))
    True
    >>> sorted(c.value for c in cond.needs)
    ['listing']
"""

from s3safe.query.condition import Condition, Verdict, compile_where, resolve
from s3safe.query.errors import QueryError, QueryEvaluationError
from s3safe.query.facts import (
    CLIENT_ENCRYPTION_META_KEY,
    AclSummary,
    Clock,
    HeadFacts,
    LocalFacts,
    MappingSource,
    S3Facts,
    Subject,
    ValueSource,
)
from s3safe.query.parser import Scope
from s3safe.query.values import FETCH_ORDER, NULL, UNKNOWN, Cost, Type
from s3safe.query.variables import VARIABLES, Variable

__all__ = [
    "CLIENT_ENCRYPTION_META_KEY",
    "FETCH_ORDER",
    "NULL",
    "UNKNOWN",
    "VARIABLES",
    "AclSummary",
    "Clock",
    "Condition",
    "Cost",
    "HeadFacts",
    "LocalFacts",
    "MappingSource",
    "QueryError",
    "QueryEvaluationError",
    "S3Facts",
    "Scope",
    "Subject",
    "Type",
    "ValueSource",
    "Variable",
    "Verdict",
    "compile_where",
    "resolve",
]
