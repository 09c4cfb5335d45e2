"""Real published plans (tests/corpus/*.txt) import as a careful reader reads them.

Each document sits beside its hand-checked `.expected.yaml`; see tests/corpus_compare.py for
what is compared (task seqs in order, requirement prefix, the set of department/role/group,
due, ongoing, recurrence, and a warning when a cut-off task was dropped).
"""
from __future__ import annotations

import pytest

from corpus_compare import check, documents

DOCUMENTS = documents()


def test_corpus_is_not_empty() -> None:
    assert DOCUMENTS, "tests/corpus holds no document with an .expected.yaml beside it"


@pytest.mark.parametrize("document", DOCUMENTS, ids=[d.stem for d in DOCUMENTS])
def test_document_imports_as_expected(document) -> None:
    result = check(document)
    assert result.right, result.report()
