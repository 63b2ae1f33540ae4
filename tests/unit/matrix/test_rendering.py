from adapters.matrix.rendering import render_markdown


def _html(text: str) -> str:
    formatted = render_markdown(text).formatted_body
    assert formatted is not None
    return formatted


def test_body_is_the_original_markdown() -> None:
    assert render_markdown("**hi** there").body == "**hi** there"


def test_bold_and_italics_render() -> None:
    assert _html("**bold** and _it_") == "<p><strong>bold</strong> and <em>it</em></p>"


def test_strikethrough_renders() -> None:
    assert "<s>gone</s>" in _html("~~gone~~")


def test_code_fence_keeps_language_class() -> None:
    formatted = _html("```python\nx = 1\n```")
    assert '<pre><code class="language-python">x = 1' in formatted


def test_lists_render_and_ordered_start_survives() -> None:
    assert "<ul>\n<li>a</li>" in _html("- a\n- b")
    assert '<ol start="3">' in _html("3. c\n4. d")


def test_tables_render_without_inline_styles() -> None:
    formatted = _html("| a | b |\n|--:|---|\n| 1 | 2 |")
    assert "<table>" in formatted
    assert "<th>a</th>" in formatted
    assert "style" not in formatted


def test_plain_text_has_no_formatted_body() -> None:
    assert render_markdown("just words, a < b & c").formatted_body is None


def test_plain_multiline_text_has_no_formatted_body() -> None:
    assert render_markdown("line one\nline two\n\npara two").formatted_body is None


def test_escaped_markdown_is_formatting() -> None:
    # The backslash disappears in HTML, so the HTML does say something the body does not.
    assert render_markdown(r"a \* b").formatted_body == "<p>a * b</p>"


def test_script_tag_is_removed() -> None:
    formatted = render_markdown("hi <script>alert(1)</script> there").formatted_body
    assert formatted is not None
    assert "<script" not in formatted
    assert "alert" not in formatted


def test_script_only_message_falls_back_to_body() -> None:
    rendered = render_markdown("<script>alert(1)</script>")
    assert rendered.formatted_body is None


def test_img_loses_event_handler_and_non_mxc_src() -> None:
    formatted = _html('<img src=x onerror="alert(1)"> <img src="mxc://hs/abc" alt="pic">')
    assert "onerror" not in formatted
    assert 'src="x"' not in formatted
    assert '<img src="mxc://hs/abc" alt="pic">' in formatted


def test_javascript_link_has_no_href() -> None:
    # markdown-it refuses the link outright, so it stays literal text.
    assert "href" not in (render_markdown("[x](javascript:alert(1))").formatted_body or "")
    raw = _html('<a href="javascript:alert(1)">x</a>')
    assert "href" not in raw


def test_safe_link_survives() -> None:
    assert '<a href="https://ok" rel="noopener noreferrer">ok</a>' in _html('<a href="https://ok">ok</a>')
    assert 'href="https://example.org/"' in _html("[site](https://example.org/)")


def test_relative_and_mxc_hrefs_are_dropped() -> None:
    assert "href" not in _html('<a href="/local">x</a> <a href="mxc://hs/abc">y</a>')


def test_colours_must_be_hex() -> None:
    formatted = _html('<span data-mx-color="#ff0000">r</span><font data-mx-color="red;x">b</font>')
    assert 'data-mx-color="#ff0000"' in formatted
    assert "red;x" not in formatted


def test_code_class_keeps_only_language_hints() -> None:
    formatted = _html('<code class="language-rust evil">x</code>')
    assert '<code class="language-rust">' in formatted
