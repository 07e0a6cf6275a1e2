"""Every sample document, rendered once per test session (WeasyPrint takes a fraction of a second
a document, the 600-event record a few seconds) and read back from the PDF."""

import pytest

from tests.letters.printing import Printed
from tests.letters.samples import (
    LONG_RECORD_EVENTS,
    case_file_zh,
    certificate_en,
    certificate_zh,
    notice_en,
    notice_zh,
    record_en,
    record_zh,
)


@pytest.fixture(scope="session")
def zh_notice(tmp_path_factory) -> Printed:
    return Printed(notice_zh(), tmp_path_factory)


@pytest.fixture(scope="session")
def en_notice(tmp_path_factory) -> Printed:
    return Printed(notice_en(), tmp_path_factory)


@pytest.fixture(scope="session")
def case_file(tmp_path_factory) -> Printed:
    return Printed(case_file_zh(), tmp_path_factory)


@pytest.fixture(scope="session")
def zh_certificate(tmp_path_factory) -> Printed:
    return Printed(certificate_zh(), tmp_path_factory)


@pytest.fixture(scope="session")
def en_certificate(tmp_path_factory) -> Printed:
    return Printed(certificate_en(), tmp_path_factory)


@pytest.fixture(scope="session")
def zh_record(tmp_path_factory) -> Printed:
    return Printed(record_zh(), tmp_path_factory)


@pytest.fixture(scope="session")
def en_record(tmp_path_factory) -> Printed:
    return Printed(record_en(), tmp_path_factory)


@pytest.fixture(scope="session")
def long_record(tmp_path_factory) -> Printed:
    return Printed(record_en(events=LONG_RECORD_EVENTS), tmp_path_factory)


@pytest.fixture(
    params=[
        "zh_notice",
        "en_notice",
        "case_file",
        "zh_certificate",
        "en_certificate",
        "zh_record",
        "en_record",
        "long_record",
    ]
)
def printed(request) -> Printed:
    return request.getfixturevalue(request.param)
