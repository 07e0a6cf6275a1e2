"""doorstep.errors.UserError: `message` is English whatever language is active, `translated()`
speaks the reader's, lazy figures (a choice's label, a nested refusal) included."""

from django.utils import translation
from django.utils.translation import gettext_noop

from doorstep.arrangements.enums import Event, State
from doorstep.errors import UserError, in_language
from doorstep.uploads import UploadRejected

STEP = gettext_noop("this step (%(step)s) is not possible for an arrangement in state %(state)s")


def refused() -> UserError:
    return UserError(
        STEP, code="arrangement.transition",
        params={"step": Event.APPROVE.label, "state": State.REQUESTED.label},
    )  # fmt: skip


def test_a_refusal_raised_while_chinese_is_active_keeps_an_english_message():
    with translation.override("zh-hans"):
        error = refused()
        assert error.message == (
            "this step (Approve) is not possible for an arrangement in state Requested"
        )
        assert str(error) == error.message
        assert error.translated() == "处于“已申请”状态的还款安排不能执行此操作（批准）"
        assert translation.get_language() == "zh-hans"  # the override ends with the message
    with translation.override("en"):
        assert error.translated() == error.message


def test_a_figure_rendered_in_the_language_it_is_read_in():
    figure = in_language(lambda: "中文" if translation.get_language().startswith("zh") else "en")
    with translation.override("zh-hans"):
        error = UserError(gettext_noop("%(name)s was not accepted: %(reason)s"), code="x",
                          params={"name": "a.pdf", "reason": figure})  # fmt: skip
        assert error.message == "a.pdf was not accepted: en"
        assert error.translated() == "a.pdf 未被接受：中文"


def test_a_nested_refusal_is_english_in_the_message_and_translated_on_the_page():
    inner = UploadRejected(gettext_noop("only JPEG or PNG photos and PDF documents are accepted"),
                           code="upload.type")  # fmt: skip
    with translation.override("zh-hans"):
        error = UserError(gettext_noop("%(name)s was not accepted: %(reason)s"), code="x",
                          params={"name": "a.exe", "reason": inner})  # fmt: skip
        assert error.message == (
            "a.exe was not accepted: only JPEG or PNG photos and PDF documents are accepted"
        )
        assert error.translated() == "a.exe 未被接受：仅接受 JPEG、PNG 照片和 PDF 文件"
