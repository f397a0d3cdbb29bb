"""JUnit XML beside a report, so a CI job can gate on a load run or a game day."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Case:
    """One judged item: a threshold, a hypothesis, the experiment's state, the check."""

    name: str
    passed: bool
    detail: str = ""
    skipped: bool = False


def write(path: Path, *, suite: str, cases: list[Case], seconds: float) -> Path:
    """Write *cases* as one JUnit test suite named *suite* to *path*; return it."""
    failures = sum(not c.passed and not c.skipped for c in cases)
    root = ET.Element("testsuites", name=suite, tests=str(len(cases)),
                      failures=str(failures), time=f"{seconds:.1f}")
    element = ET.SubElement(root, "testsuite", name=suite, tests=str(len(cases)),
                            failures=str(failures),
                            skipped=str(sum(c.skipped for c in cases)), time=f"{seconds:.1f}")
    for case in cases:
        item = ET.SubElement(element, "testcase", classname=suite, name=case.name)
        if case.skipped:
            ET.SubElement(item, "skipped", message=case.detail)
        elif not case.passed:
            ET.SubElement(item, "failure", message=case.detail).text = case.detail
        elif case.detail:
            ET.SubElement(item, "system-out").text = case.detail
    ET.indent(root)
    path.write_text(ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n")
    return path
