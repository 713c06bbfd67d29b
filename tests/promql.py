"""The metric names a PromQL expression reads, found by tokenizing it (not by a pattern over
the text): identifiers that are function calls, aggregation operators, keywords, label
names (inside `{...}`, or the lists after `by`, `without`, `on`, `ignoring`,
`group_left`, `group_right`), strings, durations and Grafana's `$variables` are not metric
names; a `{__name__="..."}` matcher is one.

Also what a Prometheus text exposition (`/metrics`) serves: every sample's name, and for
each `# TYPE` family the series Prometheus stores for it (a histogram `h` as `h_bucket`,
`h_count`, `h_sum`), so a family registered without a labelled child yet still counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

KEYWORDS = frozenset(
    {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right"}
    | {"offset", "bool", "atan2", "inf", "nan", "start", "end"}
)
AGGREGATIONS = frozenset(
    {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values"}
    | {"bottomk", "topk", "quantile", "limitk", "limit_ratio"}
)
LABEL_LISTS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
SERIES_OF = {
    "counter": ("", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "info": ("_info",),
    "stateset": ("",),
    "gaugehistogram": ("_bucket", "_gcount", "_gsum"),
    "unknown": ("",),
}
SYNTHETIC = frozenset(
    {"up", "scrape_duration_seconds", "scrape_samples_scraped"}
    | {"scrape_samples_post_metric_relabeling", "scrape_series_added", "ALERTS"}
)
"""Series Prometheus writes itself for every target or rule, served by no `/metrics`."""

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|\#[^\n]*)
  | (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)
  | (?P<variable>\$\{[^}]*\}|\$\w+)
  | (?P<duration>(?:\d+(?:ms|[smhdwy]))+)
  | (?P<number>0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<op>=~|!~|!=|==|<=|>=|[-+*/%^<>=,:@(){}\[\]])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str


def tokens(expr: str) -> list[Token]:
    """The tokens of `expr` (white space and comments dropped); ValueError on anything else."""
    found: list[Token] = []
    at = 0
    while at < len(expr):
        match = _TOKEN.match(expr, at)
        if match is None:
            raise ValueError(f"cannot read PromQL at {at}: {expr[at : at + 20]!r}")
        kind = match.lastgroup or ""
        if kind != "space":
            found.append(Token(kind, match.group()))
        at = match.end()
    return found


def _closing(toks: list[Token], start: int, opening: str, closing: str) -> int:
    """The index of the bracket closing the one at `start`."""
    depth = 0
    for i in range(start, len(toks)):
        if toks[i].text == opening:
            depth += 1
        elif toks[i].text == closing:
            depth -= 1
            if depth == 0:
                return i
    raise ValueError(f"unbalanced {opening!r}")


def _names_in_matchers(toks: list[Token]) -> Iterator[str]:
    """`__name__="x"` inside a `{...}` selector."""
    for i in range(len(toks) - 2):
        if toks[i].text == "__name__" and toks[i + 1].text == "=" and toks[i + 2].kind == "string":
            yield toks[i + 2].text[1:-1]


def _balanced(toks: list[Token]) -> None:
    pairs = {")": "(", "}": "{", "]": "["}
    stack: list[str] = []
    for token in toks:
        if token.text in "({[":
            stack.append(token.text)
        elif token.text in pairs and (not stack or stack.pop() != pairs[token.text]):
            raise ValueError(f"unbalanced {token.text!r}")
    if stack:
        raise ValueError(f"unclosed {stack[-1]!r}")


def metric_names(expr: str) -> set[str]:
    """The metric names `expr` selects (ValueError when it cannot be read)."""
    toks = tokens(expr)
    _balanced(toks)
    names: set[str] = set()
    i = 0
    while i < len(toks):
        token = toks[i]
        following = toks[i + 1].text if i + 1 < len(toks) else ""
        if token.text == "{":
            end = _closing(toks, i, "{", "}")
            names.update(_names_in_matchers(toks[i : end + 1]))
            i = end + 1
            continue
        if token.text == "[":  # a range or subquery: durations and variables only
            i = _closing(toks, i, "[", "]") + 1
            continue
        if token.kind == "ident":
            word = token.text
            if word.lower() in LABEL_LISTS and following == "(":
                i = _closing(toks, i + 1, "(", ")") + 1
                continue
            is_call = following == "("
            if not is_call and word.lower() not in KEYWORDS and word not in AGGREGATIONS:
                names.add(word)
        i += 1
    return names


def served_names(exposition: str) -> set[str]:
    """Every series name a Prometheus text exposition serves or declares."""
    names: set[str] = set()
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split(maxsplit=3)
            names.update(family + suffix for suffix in SERIES_OF.get(kind.strip(), ("",)))
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{\s]", line, maxsplit=1)[0])
    return names
