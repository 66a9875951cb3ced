"""Request-time inputs: declarations refused with a sentence, values checked by type, range,
length and category; nothing undeclared passes."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lucid.contracts.value.request_inputs import (
    InputType,
    RequestInput,
    checked_values,
    read_request_inputs,
    request_input_of_option,
)
from lucid.errors import InvalidInput

AMOUNT = RequestInput("amount", InputType.NUMBER, minimum=0, maximum=10_000)
COUNT = RequestInput("items", InputType.INTEGER, minimum=1)
FLAG = RequestInput("express", InputType.BOOLEAN)
NOTE = RequestInput("note", InputType.TEXT, max_length=5)
CHANNEL = RequestInput("channel", InputType.TEXT, categories=("web", "app"))
SPECS = (AMOUNT, COUNT, FLAG, NOTE, CHANNEL)
GOOD = {"amount": 12.5, "items": 2, "express": False, "note": "hi", "channel": "web"}


def refusal(specs: Any, values: Any, where: str = "inputs") -> str:
    with pytest.raises(InvalidInput) as caught:
        checked_values(specs, values, where)
    return str(caught.value)


def test_good_values_pass_in_the_declared_order_numbers_as_floats() -> None:
    assert checked_values(SPECS, dict(reversed(GOOD.items()))) == GOOD
    assert checked_values([AMOUNT], {"amount": 3}) == {"amount": 3.0}
    assert checked_values([COUNT], {"items": 4.0}) == {"items": 4}
    assert checked_values([], None) == {} == checked_values([], {})
    assert checked_values([NOTE], {"note": ""}) == {"note": ""}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, "inputs.amount: is required (a number in [0, 10000])"),
        ({"amount": None}, "inputs.amount: is required (a number in [0, 10000])"),
        ({"amount": True}, "inputs.amount: must be a number in [0, 10000], not true"),
        ({"amount": "12"}, "inputs.amount: must be a number in [0, 10000], not the text '12'"),
        ({"amount": -1}, "inputs.amount: must be a number in [0, 10000], not -1"),
        ({"amount": 10_000.5}, "inputs.amount: must be a number in [0, 10000], not 10000.5"),
        ({"amount": math.nan}, "inputs.amount: must be a number in [0, 10000], not nan"),
        ({"amount": math.inf}, "inputs.amount: must be a number in [0, 10000], not inf"),
        ({"amount": [1]}, "inputs.amount: must be a number in [0, 10000], not a list"),
        ({"amount": 1, "tip": 2}, "inputs.tip: is not a request-time input of this version"),
    ],
)
def test_a_bad_number_is_refused_naming_the_field(values: Any, expected: str) -> None:
    assert refusal([AMOUNT], values).startswith(expected)


def test_each_type_refuses_what_it_does_not_hold() -> None:
    assert (
        refusal([COUNT], {"items": 1.5})
        == "inputs.items: must be an integer of at least 1, not 1.5"
    )
    assert refusal([COUNT], {"items": 0}) == "inputs.items: must be an integer of at least 1, not 0"
    assert refusal([FLAG], {"express": 1}) == "inputs.express: must be true or false, not 1"
    assert refusal([FLAG], {"express": "true"}).startswith("inputs.express: must be true or false")
    assert refusal([NOTE], {"note": "toolong"}) == (
        "inputs.note: must be text of at most 5 characters, not 7 characters long"
    )
    assert refusal([NOTE], {"note": 5}) == (
        "inputs.note: must be text of at most 5 characters, not 5"
    )
    assert refusal([CHANNEL], {"channel": "fax"}) == (
        "inputs.channel: must be one of web, app, not 'fax'"
    )
    assert refusal([], {"x": 1}, "entities[3].inputs") == (
        "entities[3].inputs.x: is not a request-time input of this version (it takes none)"
    )
    assert refusal([AMOUNT], [1]) == "inputs: must be an object of input name to value, not a list"
    default = RequestInput("text", InputType.TEXT)
    assert checked_values([default], {"text": "x" * 10_000})
    assert "at most 10000 characters" in refusal([default], {"text": "x" * 10_001})


@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers())
def test_a_number_passes_exactly_when_finite_and_in_range(value: float) -> None:
    inside = math.isfinite(value) and 0 <= value <= 10_000
    try:
        assert checked_values([AMOUNT], {"amount": value}) == {"amount": float(value)}
        assert inside
    except InvalidInput as error:
        assert not inside and error.field == "inputs.amount"


@given(st.integers(min_value=-5, max_value=5), st.integers(min_value=-5, max_value=5))
def test_integer_bounds_are_inclusive(low: int, value: int) -> None:
    spec = RequestInput("n", InputType.INTEGER, minimum=low, maximum=low + 3)
    try:
        checked_values([spec], {"n": value})
        assert low <= value <= low + 3
    except InvalidInput:
        assert not low <= value <= low + 3


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ([{"name": "Amount", "type": "number"}], "request_inputs[0].name: 'Amount' must be"),
        ([{"name": "", "type": "number"}], "request_inputs[0].name:"),
        ([{"name": 3, "type": "number"}], "request_inputs[0].name: must be"),
        ([{"name": "a", "type": "float"}], "request_inputs[0].type: must be one of number,"),
        ([{"name": "a"}], "request_inputs[0].type: must be one of"),
        ([{"name": "a", "type": "number", "minimum": 5, "maximum": 1}], "[0].minimum: 5 is above"),
        ([{"name": "a", "type": "number", "minimum": "0"}], "[0].minimum: must be a number"),
        ([{"name": "a", "type": "number", "maximum": math.inf}], "[0].maximum: must be a finite"),
        ([{"name": "a", "type": "text", "minimum": 0}], "[0].minimum: bounds only a number"),
        ([{"name": "a", "type": "number", "max_length": 3}], "[0].max_length: bounds only a text"),
        ([{"name": "a", "type": "text", "max_length": 0}], "[0].max_length: must be a positive"),
        ([{"name": "a", "type": "boolean", "categories": ["x"]}], "[0].categories: closes only"),
        ([{"name": "a", "type": "text", "categories": []}], "[0].categories: must list 1 to"),
        ([{"name": "a", "type": "text", "categories": "ab"}], "[0].categories: must be a list"),
        ([{"name": "a", "type": "text", "categories": ["x", "x"]}], "'x' is listed twice"),
        ([{"name": "a", "type": "text", "categories": [1]}], "[0].categories: each must be text"),
        ([{"name": "a", "type": "number", "unit": "€"}], "[0]: has unknown field(s) unit"),
        ([{"name": "a", "type": "number"}, {"name": "a", "type": "text"}], "[1].name: a is dec"),
        ([{"name": "score", "type": "number"}], "request_inputs[0].name: score is reserved"),
        ([{"name": "tenure", "type": "number"}], "[0].name: tenure is a pinned feature"),
        ([7], "request_inputs[0]: must be an input with a name and a type, not 7"),
        ({"name": "a"}, "request_inputs: must be a list of inputs"),
    ],
)
def test_a_bad_declaration_is_refused_naming_the_field(raw: Any, expected: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        read_request_inputs(raw, features=["tenure"])
    assert expected in str(caught.value)


def test_declarations_read_from_mappings_or_specs_and_round_trip() -> None:
    specs = read_request_inputs([spec.to_dict() for spec in SPECS])
    assert specs == SPECS
    assert read_request_inputs([AMOUNT, {"name": "b", "type": "boolean"}]) == (
        AMOUNT,
        FLAG.__class__("b", InputType.BOOLEAN),
    )
    assert read_request_inputs(None) == ()


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("amount:number:0..10000", AMOUNT),
        ("items:integer:1..", RequestInput("items", InputType.INTEGER, minimum=1)),
        ("x:number:..2.5", RequestInput("x", InputType.NUMBER, maximum=2.5)),
        ("express:boolean", FLAG),
        ("note:text:5", NOTE),
        ("channel:text:web|app", CHANNEL),
        ("note:text", RequestInput("note", InputType.TEXT)),
    ],
)
def test_the_option_syntax_reads_each_type(option: str, expected: RequestInput) -> None:
    assert request_input_of_option(option) == expected


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("amount", "must be written name:type[:rule]"),
        ("amount:float", "the type must be one of number, integer, boolean, text"),
        ("amount:number:5", "a range is written min..max"),
        ("amount:number:a..b", "a range is written min..max"),
        ("flag:boolean:yes", "a boolean input takes no rule"),
        ("amount:number:9..1", "--request-input: 'amount:number:9..1': 9 is above the maximum 1"),
        ("Amount:number", "--request-input: 'Amount:number': 'Amount' must be"),
    ],
)
def test_a_bad_option_is_refused_with_a_sentence(option: str, expected: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        request_input_of_option(option)
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("spec", "cell", "expected"),
    [
        (AMOUNT, "12.5", 12.5),
        (AMOUNT, " 7 ", 7.0),
        (COUNT, "3", 3),
        (FLAG, "True", True),
        (FLAG, "0", False),
        (NOTE, "12", "12"),
        (CHANNEL, "app", "app"),
    ],
)
def test_a_cell_written_as_text_is_read_by_the_input_type(
    spec: RequestInput, cell: str, expected: Any
) -> None:
    assert checked_values([spec], {spec.name: cell}, from_text=True) == {spec.name: expected}


@pytest.mark.parametrize(
    ("spec", "cell", "expected"),
    [
        (AMOUNT, "abc", "rows[2].amount: must be a number in [0, 10000], not the text 'abc'"),
        (AMOUNT, "", "rows[2].amount: is required (a number in [0, 10000])"),
        (AMOUNT, "nan", "rows[2].amount: must be a number in [0, 10000], not nan"),
        (COUNT, "1.5", "rows[2].items: must be an integer of at least 1, not 1.5"),
        (FLAG, "yes", "rows[2].express: must be true or false, not the text 'yes'"),
    ],
)
def test_a_bad_cell_is_refused_naming_its_row_and_column(
    spec: RequestInput, cell: str, expected: str
) -> None:
    assert refusal_from_text([spec], {spec.name: cell}, "rows[2]") == expected


def refusal_from_text(specs: Any, values: Any, where: str) -> str:
    with pytest.raises(InvalidInput) as caught:
        checked_values(specs, values, where, from_text=True)
    return str(caught.value)
