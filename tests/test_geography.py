"""Division codes → names (data/divisions/), and the catalogue's checks of codes, levels and ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.catalogue import load_catalogue
from tasks.errors import CatalogueError
from tasks.geography import Place, check_adcode, place
from tests.conftest import SAMPLES


def test_places_from_the_division_table() -> None:
    assert place("320813") == Place("320813", "county", "江苏省", "淮安市", "洪泽区")
    assert place("320800") == Place("320800", "prefecture", "江苏省", "淮安市", None)
    assert place("310000") == Place("310000", "province", "上海市", None, None)
    assert place("110101") == Place("110101", "county", "北京市", None, "东城区")  # a municipality's district
    assert place("999999") is None


@pytest.mark.parametrize(("code", "level", "why"), [
    ("32081", "county", "six digits"),
    ("999999", "county", "999999 is not in the division table"),
    ("320800", "county", "320800 (淮安市) is a prefecture, not the county a county organ belongs to"),
    ("320813", "municipal", "is a county, not the prefecture a municipal organ belongs to"),
    ("110000", "national", "a national organ has no division code"),
])
def test_codes_that_do_not_fit_are_refused(code: str, level: str, why: str) -> None:
    assert why in (check_adcode(code, level) or "")


def test_departments_take_the_code_of_their_government() -> None:
    assert check_adcode("320800", "department") is None and check_adcode("320324", "department") is None


HEADER = "organ_id,organ,adcode,region,level,year,report_url,listing_url\n"


@pytest.mark.parametrize(("rows", "why"), [
    (",某县人民政府,999999,,county,2021,a.html,\n", "line 2, column adcode: 999999 is not in the division table"),
    (",淮安市人民政府,320813,,municipal,2021,a.html,\n", "line 2, column adcode: 320813 (洪泽区) is a county"),
    ("a b,某县人民政府,,,county,2021,a.html,\n", "line 2, column organ_id: an id of at most 64 characters"),
    ("x1,某县人民政府,320813,,county,2021,a.html,\nx1,某县人民政府,320813,,county,2021,b.html,\n",
     "line 3, column organ_id: 'x1' already has a 2021 report on line 2"),
    ("x1,某县人民政府,320813,,county,2021,a.html,\nx1,某县人民政府,320800,,municipal,2022,b.html,\n",
     "line 3, column organ_id: 'x1' is county 320813 on line 2, here municipal 320800"),
    ("x1,某县人民政府,320813,,county,2021,a.html,\nx2,某县人民政府,320813,,county,2022,b.html,\n",
     "line 3, column organ_id: 某县人民政府 already has the id 'x1' (line 2), here 'x2'"),
])
def test_the_catalogue_names_the_line_and_why(tmp_path: Path, rows: str, why: str) -> None:
    path = tmp_path / "cat.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    with pytest.raises(CatalogueError) as err:
        load_catalogue(path)
    assert why in str(err.value) and str(path) in str(err.value)


def test_an_id_survives_a_rename() -> None:
    """机构改革: the same organ under a new name keeps its id (and its code)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cat.csv"
        path.write_text(HEADER + "x1,某县经济和信息化局,320813,,department,2020,a.html,\n"
                                 "x1,某县工业和信息化局,320813,,department,2021,b.html,\n", encoding="utf-8")
        assert [e.organ_id for e in load_catalogue(path).entries] == ["x1", "x1"]


def test_every_sample_organ_has_its_identity() -> None:
    entries = load_catalogue(SAMPLES / "catalogue.csv").entries
    assert all(e.organ_id and e.adcode and e.level for e in entries)
    assert all(place(e.adcode) is not None for e in entries)
    hongze = {e.organ_id for e in entries if e.organ == "淮安市洪泽区人民政府"}
    assert hongze == {"320813-01"}  # one organ, two years, one id
