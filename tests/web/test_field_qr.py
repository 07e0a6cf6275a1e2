"""The field agent's QR code (the link to check their credential) is drawn once per link."""

import segno

from doorstep.web import field


def test_the_qr_code_is_drawn_once_per_link_and_is_segnos_drawing(monkeypatch):
    field._qr_svg.cache_clear()
    drawn = []
    make = segno.make

    def counting(text, **kwargs):
        drawn.append(text)
        return make(text, **kwargs)

    monkeypatch.setattr(field.segno, "make", counting)
    first = field._qr_svg("http://x/verify/?no=A-1")
    again = field._qr_svg("http://x/verify/?no=A-1")
    other = field._qr_svg("http://x/verify/?no=A-2")
    assert drawn == ["http://x/verify/?no=A-1", "http://x/verify/?no=A-2"]
    assert (
        first
        == again
        == make("http://x/verify/?no=A-1", error="m").svg_inline(scale=4, dark="#12355b")
    )
    assert other != first
    field._qr_svg.cache_clear()
