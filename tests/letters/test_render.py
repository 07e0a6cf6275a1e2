"""The printed documents, read back from the PDF as a reader would: text (pdftotext), fonts
(pdffonts). No database. Each document is rendered once a session (conftest.py)."""

import re
from dataclasses import replace
from datetime import time
from html import unescape
from urllib.parse import unquote

import pytest

from doorstep.compliance.domain import forbidden_in
from doorstep.letters.documents import BorrowerRecord, LetterInvalid
from doorstep.letters.render import render_html
from tests.letters.printing import CJK_TEXT, cells, yuan_cents
from tests.letters.samples import OVERDUE_CENTS, case_file_zh, notice_zh

CJK_FONT = re.compile(r"Noto-?S(ans|erif)-?CJK", re.IGNORECASE)


def test_every_document_is_a_pdf_with_cjk_fonts_embedded(printed):
    assert printed.pdf.startswith(b"%PDF-")
    embedded = [
        line.split()[0]
        for line in printed.fonts.splitlines()[2:]
        if CJK_FONT.search(line) and " yes " in line
    ]
    assert embedded, (
        "no Noto CJK font embedded, Chinese would print as empty boxes: install fonts-noto-cjk "
        f"(make install does).\npdffonts:\n{printed.fonts}"
    )


def _page_number(document, number: int, pages: int) -> str:
    """The page's number as the footer prints it, without spaces."""
    if isinstance(document, BorrowerRecord):
        return {"zh": f"第{number}页/共{pages}页", "en": f"Page{number}of{pages}"}[
            document.language
        ]
    return f"{number}/{pages}"


def test_every_page_carries_the_reference_and_its_number(printed):
    pages = printed.pages
    for number, page in enumerate(pages, start=1):
        assert printed.document.reference in page
        assert _page_number(printed.document, number, len(pages)) in "".join(page.split())


def test_no_document_contains_a_forbidden_phrase(printed):
    spaced = " ".join(printed.text.split())
    assert forbidden_in(spaced) == []
    if printed.document.language == "zh":
        # Chinese has no spaces: a phrase broken across two lines is still the phrase.
        assert forbidden_in("".join(printed.text.split())) == []


def test_the_chinese_notice_reads_back_as_text(zh_notice):
    for expected in (
        "上门核实通知书",
        "星辰消费金融有限公司",
        "编号：VN-2026-000123",
        "张伟（收）",
        "尊敬的张伟：",
        "上海市浦东新区张杨路1234弄5号601室",
        "2026年6月16日（星期二）09:30–11:30",
        # the visitors, with the credential numbers the borrower checks
        "李明",
        "FV-310115-0042",
        "王芳",
        "FV-310115-0057",
        "¥5,025.75",
        "¥6,625.75",
        "91 天",
        # how to check the visitors
        "https://portal.xingchen.example.cn/verify",
        "扫描其工作证上的二维码",
        "400-820-1234",
        # confirm, reschedule, decline or pay instead, by the reply date
        "请于2026年6月14日前告诉我们您的选择",
        "https://portal.xingchen.example.cn/v/VN-2026-000123",
        "改约",
        "最晚可改至 2026年7月12日",
        "拒绝后，本次上门不会进行",
        "https://portal.xingchen.example.cn/pay/A0001",
        "我们只在每天 08:00–20:00 之间上门",
        "特此通知。",
    ):
        assert zh_notice.shows(expected), expected


def test_the_english_notice_reads_back_as_text(en_notice):
    for expected in (
        "Notice of a home verification visit",
        "Dear Daniel Becker,",
        "Wednesday 17 June 2026, 18:00–20:00",
        "Li Ming",
        "FV-310115-0042",
        "Wang Fang",
        "FV-310115-0057",
        "¥5,025.75",
        "scan the QR code on their credential",
        "https://portal.xingchen.example.cn/verify",
        "Please tell us by 14 June 2026 what you would like to do",
        "up to 12 July 2026",
        "the visit will then not be made",
        "https://portal.xingchen.example.cn/pay/A0002",
        "We only visit between 08:00 and 20:00",
        "Yours sincerely,",
    ):
        assert en_notice.shows(expected), expected
    assert not CJK_TEXT.search(en_notice.text)


def test_the_notice_carries_a_qr_code_for_the_reply_page(zh_notice):
    # WeasyPrint draws the SVG as vector paths: the PDF holds no image to find, the HTML does.
    qr = re.findall(r'<img src="(data:image/svg\+xml[^"]+)" alt="([^"]+)">', zh_notice.html)
    assert len(qr) == 1
    uri, alt = qr[0]
    assert alt == zh_notice.document.respond_url
    assert unquote(unescape(uri)).split(",", 1)[1].startswith("<svg")


def test_the_overdue_breakdown_sums_to_the_overdue_figure_shown(case_file):
    *lines, total = [row for row in cells(case_file.html, "breakdown") if row]
    assert len(lines) == 3
    for line in lines:
        *parts, line_total = map(yuan_cents, line[2:8])
        assert sum(parts) == line_total
    assert sum(yuan_cents(line[7]) for line in lines) == yuan_cents(total[6]) == OVERDUE_CENTS
    shown = re.search(r'<strong class="overdue-figure">(.*?)</strong>', case_file.html).group(1)
    assert yuan_cents(unescape(shown)) == OVERDUE_CENTS
    assert case_file.shows("合计（即逾期金额）¥4,500.00¥270.00¥30.00¥90.00¥135.75¥5,025.75")


def test_the_case_file_reads_back_as_text_with_the_notice_attached(case_file):
    for expected in (
        "外访案件资料",
        "内部资料",
        "张伟",
        "138****5678",
        "逾期明细",
        "账户流水",
        "《个人消费贷款合同》第八条",
        "逾期 91 天且逾期金额 ¥5,025.75",
        "剩余欠款分 6 期偿还",
        "2026年6月16日 星期二 09:30–11:30",
        "FV-310115-0042",
        "外访人员签字",
    ):
        assert case_file.shows(expected), expected
    # the notice as sent follows the file, on a page of its own
    appendix = next(i for i, page in enumerate(case_file.pages) if "附件：上门核实通知书" in page)
    assert "尊敬的张伟：" in "".join(case_file.pages[appendix].split())


def test_a_case_file_without_a_notice_says_no_visit_may_be_made():
    html = render_html(replace(case_file_zh(), notice=None))
    assert "尚未发出上门通知：通知发出前不得上门。" in html
    assert "附件" not in html


def test_text_a_caller_supplies_is_escaped():
    html = render_html(replace(notice_zh(), borrower_name="<b>张伟</b>"))
    assert "&lt;b&gt;张伟&lt;/b&gt;" in html
    assert "<b>张伟</b>" not in html


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"window_start": time(19), "window_end": time(21)}, "within visit hours 08:00–20:00"),
        ({"window_start": time(7, 30), "window_end": time(9)}, "within visit hours"),
        ({"window_start": time(11), "window_end": time(10)}, "within visit hours"),
        ({"visitors": ()}, "names its visitors"),
        ({"language": "fr"}, "language must be one of zh, en"),
        ({"respond_by": notice_zh().visit_date.replace(day=17)}, "respond_by"),
        ({"overdue_cents": 0}, "overdue"),
        ({"pay_url": "javascript:alert(1)"}, "pay_url must be an http(s) address"),
    ],
)
def test_a_notice_that_contradicts_itself_is_refused(change, message):
    with pytest.raises(LetterInvalid, match=re.escape(message)) as refused:
        replace(notice_zh(), **change)
    assert refused.value.code == "letter.invalid"


def test_a_case_file_whose_breakdown_does_not_sum_to_the_overdue_figure_is_refused():
    with pytest.raises(LetterInvalid, match="breakdown sums to 502575 cents"):
        replace(case_file_zh(), overdue_cents=OVERDUE_CENTS + 1)


def test_a_case_file_with_an_unmasked_phone_is_refused():
    with pytest.raises(LetterInvalid, match="masked_phone must be masked"):
        replace(case_file_zh(), masked_phone="13812345678")


def test_lists_given_for_tuples_are_frozen():
    notice = replace(notice_zh(), visitors=list(notice_zh().visitors))
    assert isinstance(notice.visitors, tuple)
