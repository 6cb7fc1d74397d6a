"""okrcore.load/loads/dump/dumps behave like json's; dicts have their own names (issue 16)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings

import okrcore
from okrcore import Document, DocumentError, Evaluation
from strategies import documents

SMALL = {
    "okrcore": 1,
    "as_of": "2026-02-15T00:00:00Z",
    "objectives": [{"id": "o1", "owner": "ann", "start": "2026-01-01", "due": "2026-03-31",
                    "key_results": [{"id": "k1", "kind": "metric", "target": 10, "current": 4},
                                    {"id": "k2", "kind": "binary", "done": True}]}],
}
TEXT = json.dumps(SMALL)


def test_load_takes_a_path_as_str_and_pathlike(tmp_path: Path) -> None:
    path = tmp_path / "organisation.json"
    path.write_text(TEXT, encoding="utf-8")
    expected = Document.from_dict(SMALL)
    assert okrcore.load(str(path)) == expected
    assert okrcore.load(path) == expected


def test_load_takes_text_and_binary_file_objects(tmp_path: Path) -> None:
    path = tmp_path / "organisation.json"
    path.write_text(TEXT, encoding="utf-8")
    expected = Document.from_dict(SMALL)
    with open(path, encoding="utf-8") as handle:
        assert okrcore.load(handle) == expected
    with open(path, "rb") as handle:
        assert okrcore.load(handle) == expected
    assert okrcore.load(io.StringIO(TEXT)) == expected
    assert okrcore.load(io.BytesIO(TEXT.encode())) == expected


def test_loads_takes_str_and_bytes() -> None:
    expected = Document.from_dict(SMALL)
    assert okrcore.loads(TEXT) == expected
    assert okrcore.loads(TEXT.encode("utf-8")) == expected
    first = expected.objectives[0].key_results[0]
    assert isinstance(first, okrcore.Metric) and first.target == 10


def test_load_of_a_dict_or_of_json_text_says_which_function_to_use() -> None:
    with pytest.raises(TypeError, match=r"got dict \(for a parsed dict use Document.from_dict"):
        okrcore.load(SMALL)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not JSON text: use loads"):
        okrcore.load(TEXT)


def test_the_top_level_must_still_be_an_object() -> None:
    for text in ("[1, 2]", "3", '"organisation.json"', "null"):
        with pytest.raises(DocumentError, match="the top level must be a JSON object"):
            okrcore.loads(text)
        with pytest.raises(DocumentError, match="the top level must be a JSON object"):
            okrcore.load(io.StringIO(text))
    with pytest.raises(DocumentError, match="the top level must be a JSON object"):
        Document.from_dict([1, 2])  # type: ignore[arg-type]
    with pytest.raises(DocumentError, match="not JSON"):
        okrcore.load(io.BytesIO(b"{"))


def test_load_of_a_missing_path_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        okrcore.load(tmp_path / "missing.json")


def test_dump_writes_a_path_or_a_text_or_binary_file(tmp_path: Path) -> None:
    doc = okrcore.loads(TEXT)
    expected = okrcore.dumps(doc) + "\n"
    okrcore.dump(doc, tmp_path / "a.json")
    assert (tmp_path / "a.json").read_text(encoding="utf-8") == expected
    okrcore.dump(doc, str(tmp_path / "b.json"))
    assert okrcore.load(tmp_path / "b.json") == doc
    text = io.StringIO()
    okrcore.dump(doc, text)
    assert text.getvalue() == expected
    binary = io.BytesIO()
    okrcore.dump(doc, binary)
    assert binary.getvalue() == expected.encode("utf-8")
    with open(tmp_path / "c.json", "wb") as handle:
        okrcore.dump(doc, handle, indent=None)
    assert (tmp_path / "c.json").read_text(encoding="utf-8") == okrcore.dumps(doc, None) + "\n"


def test_dumps_returns_text_and_to_dict_the_plain_dict() -> None:
    doc = okrcore.loads(TEXT)
    text = okrcore.dumps(doc)
    assert isinstance(text, str)
    assert json.loads(text) == doc.to_dict()
    assert doc.to_dict()["objectives"][0]["key_results"][1] == {
        "id": "k2", "kind": "binary", "done": True, "weight": 1.0}
    with pytest.raises(TypeError, match="path or a file object to write to, got dict"):
        okrcore.dump(doc, {})  # type: ignore[arg-type]


def test_result_documents_have_the_same_functions(tmp_path: Path) -> None:
    evaluation = okrcore.evaluate(okrcore.loads(TEXT))
    text = okrcore.dumps_result(evaluation)
    assert json.loads(text) == evaluation.to_dict() == evaluation.to_json()
    assert text == okrcore.dumps_result(okrcore.loads_result(text))
    assert okrcore.loads_result(text) == evaluation
    assert okrcore.loads_result(text.encode()) == evaluation
    okrcore.dump_result(evaluation, tmp_path / "result.json")
    assert okrcore.load_result(tmp_path / "result.json") == evaluation
    with open(tmp_path / "result.json", "rb") as handle:
        assert okrcore.load_result(handle) == evaluation
    assert Evaluation.from_dict(evaluation.to_dict()) == evaluation
    # k1: 4 of 10 -> 0.4; k2 done -> 1; o1 the mean 0.7
    loaded = okrcore.load_result(tmp_path / "result.json")
    assert loaded.key_results["k1"].progress == 0.4
    assert loaded.objectives["o1"].progress == 0.7


def test_the_cli_output_loads_as_a_result(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                          ) -> None:
    from okrcore.cli import main

    (tmp_path / "doc.json").write_text(TEXT, encoding="utf-8")
    assert main(["evaluate", str(tmp_path / "doc.json")]) == 0
    printed = capsys.readouterr().out
    assert okrcore.loads_result(printed) == okrcore.evaluate(okrcore.loads(TEXT))
    assert printed == okrcore.dumps_result(okrcore.loads_result(printed)) + "\n"


def test_a_bad_result_document_names_the_field() -> None:
    data = okrcore.evaluate(okrcore.loads(TEXT)).to_dict()
    with pytest.raises(DocumentError, match="must be an object"):
        Evaluation.from_dict([])  # type: ignore[arg-type]
    with pytest.raises(DocumentError, match="field 'okrcore' is 2"):
        Evaluation.from_dict({**data, "okrcore": 2})
    broken = json.loads(json.dumps(data))
    broken["key_results"]["k1"]["progress"] = "0.4"
    with pytest.raises(DocumentError, match=r"key_results.k1.progress: must be int or float"):
        Evaluation.from_dict(broken)
    del broken["key_results"]["k1"]
    del broken["objectives"]["o1"]["explanation"]["items"][0]["share"]
    with pytest.raises(DocumentError,
                       match=r"objectives.o1.explanation.items\[0\].share: missing"):
        Evaluation.from_dict(broken)


@settings(max_examples=25, deadline=None)
@given(documents())
def test_every_result_round_trips_through_its_json(doc: Document) -> None:
    evaluation = okrcore.evaluate(doc)
    assert okrcore.loads_result(okrcore.dumps_result(evaluation)) == evaluation
    assert Evaluation.from_dict(json.loads(json.dumps(evaluation.to_dict()))) == evaluation
    assert okrcore.loads(okrcore.dumps(doc)) == doc
