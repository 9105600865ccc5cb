"""No injection into summaries, and user templates that cannot run code.

- Escaping: every value a summary prints goes through its format's escaping. A hypothesis
  property puts hostile text (HTML and script tags, event handlers, Markdown markup,
  entities, control and bidirectional characters) in every place of a clause program
  that a user writes: the agreement's and the amendment's titles, party names and
  descriptions, governing law, the time zone's name, section headings and text, terms,
  fact descriptions, actions, and text facts, which also reach the counterexamples of
  the "Same results?" column. Then the Markdown, rendered by markdown-it with raw HTML
  allowed, has no HTML of the user's (its only raw HTML is the redline's own <ins> and
  <del>, one per marked run of words), the HTML page parsed by html5lib has no element
  or attribute that the template does not write, and the text has no control
  characters.
- Templates: `--templates DIR` renders in jinja2's sandbox; templates that reach for
  Python get an error naming their file and line (exit 1, no traceback), and nothing
  runs.
- Headers: an amendment whose title has an escaped quote is still an amendment.
"""

from __future__ import annotations

import html
import re
import textwrap
from pathlib import Path

import html5lib
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from clausec import api, ir
from clausec.backends.english import summaries as summarize
from clausec.backends.english import wording as english
from clausec.cli import main
from clausec.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]
PATENT = ROOT / "clauses" / "patent_purchase"
FORMATS = ("markdown", "html", "text")

# =============================================================================
# Hostile text
# =============================================================================

PAYLOADS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '"><svg onload=alert(1)>',
    "<iframe src='javascript:alert(1)'></iframe>", "</del><b data-user>x</b><del>",
    "<ins data-user>x</ins>", "</td></tr><tr><td onclick=alert(1)>", "<!-- c -->",
    "<style>body{display:none}</style>", "[link](javascript:alert(1))",
    '![i](x "y" onerror=alert(1))', "<https://example.com>", "`code` ``x``",
    "| a | b |", "*em* _em_ **b** __b__ ~~s~~", "# heading", "> quote", "- item",
    "&lt;script&gt;", "&#60;img src=x onerror=alert(1)&#62;", "&amp;", "\\", "\\<b>",
    "\x1b[31mred\x1b[0m", "\u202egnp.exe", "a\x00b\x07c\x7f", "line\nbreak", "\t",
    "{{ 7 * 7 }}", "{% raw %}", "<?xml x?>", "<![CDATA[x]]>", "Seller’s “board”",
]
WORDS = ["Seller", "the Closing", "Notice", "LLC", "7.5%", "$1,000", "(a)", ";", ","]


def _readable(text: str) -> str:
    # A title or heading of spaces only is refused by nothing, but says nothing either.
    return text if text.strip() else text + "x"


HOSTILE = st.one_of(
    st.sampled_from(PAYLOADS),
    st.lists(st.sampled_from(PAYLOADS + WORDS), min_size=1, max_size=4).map(" ".join),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1,
            max_size=24),
).map(_readable)


def q(text: str) -> str:
    """A Clause string literal of `text`."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") \
        .replace("\r", " ") + '"'


def block(text: str) -> str:
    """A Clause text block of `text`."""
    return '"""' + text.replace('"""', "'''").replace("\r", " ") + ' """'


@st.composite
def hostile_programs(draw: st.DrawFn) -> tuple[str, str, list[str]]:
    """An agreement and its amendment with hostile text in every place a user writes it,
    and the list of those texts."""
    h = [draw(HOSTILE) for _ in range(20)]
    agreement = f"""
agreement gen {q(h[0])} {{
  dated 2004-01-01
  governing law {q(h[1])}
  party buyer {q(h[2])}: {q(h[3])}
  party seller "Seller"
  time zone America/New_York {q(h[4])}
}}

fact memo {q(h[5])}: text default {q(h[6])} {q(h[7])}
fact price {q(h[8])}: money default $100
fact noticed_on: date optional

section 1 {q(h[9])} {{
  text {block(h[10])}
  condition ok {q(h[11])} = memo is {q(h[12])}
  obligation pay {q(h[13])}: buyer must {q(h[14])} price to seller by 2004-03-01 when ok
}}

section 2 {{
  text {block(h[15])}
  define fee {q(h[16])}: money = price * 2
}}
"""
    amendment = f"""
amendment first {q(h[17])} amends gen {{
  dated 2004-06-01
}}

replace section 1 {q(h[18])} {{
  text {block(h[19])}
  condition ok {q(h[11])} = memo is {q(h[6])} or memo is "plain"
  obligation pay {q(h[13])}: buyer must {q(h[14])} price to seller by 2004-04-01 when ok
}}
"""
    return agreement, amendment, h


# =============================================================================
# What each format may contain
# =============================================================================

# The HTML page: the elements and attributes the template writes, nothing else.
PAGE_ELEMENTS = {"html", "head", "body", "meta", "title", "style", "div", "header", "h1",
                 "h2", "h3", "h4", "p", "strong", "em", "nav", "a", "main", "section",
                 "table", "thead", "tbody", "tr", "th", "td", "ul", "li", "span", "dl",
                 "dt", "dd", "code", "ins", "del", "footer"}
PAGE_ATTRIBUTES = {"lang", "charset", "name", "content", "class", "href", "id",
                   "aria-label"}
# Markdown rendered: what Markdown itself makes, and the redline's <ins> and <del>.
MARKDOWN_ELEMENTS = {"html", "head", "body", "h1", "h2", "h3", "h4", "p", "em", "strong",
                     "ul", "ol", "li", "a", "code", "blockquote", "table", "thead",
                     "tbody", "tr", "th", "td", "ins", "del", "br"}


def elements(html: str) -> list[object]:
    document = html5lib.parse(html, namespaceHTMLElements=False)
    return list(document.iter())


def marks(result: api.Result, as_of) -> tuple[int, int]:
    """How many runs of inserted and deleted words the redlines mark (with the legend's
    one of each, when there are amendments)."""
    env = summarize.environment("markdown")
    context, _ = summarize.summary(result, env, "markdown", as_of)
    segments = [s for a in context.amendments for r in a.redline
                for p in r.paragraphs for s in p]
    legend = 1 if context.amendments else 0
    return (legend + sum(s.op == "insert" for s in segments),
            legend + sum(s.op == "delete" for s in segments))


def assert_markdown_is_inert(markdown: str, ins: int, dels: int) -> None:
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    raw = []
    stack = list(md.parse(markdown))
    while stack:
        token = stack.pop()
        assert token.type != "html_block", f"a block of raw HTML: {token.content!r}"
        if token.type == "html_inline":
            raw.append(token.content)
        stack.extend(token.children or [])
    assert set(raw) <= {"<ins>", "</ins>", "<del>", "</del>"}, set(raw)
    assert (raw.count("<ins>"), raw.count("<del>")) == (ins, dels)
    assert raw.count("</ins>") == ins and raw.count("</del>") == dels
    rendered = md.render(markdown)
    assert not re.search(r"<(script|img|svg|iframe|style|b)\b", rendered, re.IGNORECASE)
    for element in elements(rendered):
        assert element.tag in MARKDOWN_ELEMENTS, element.tag
        for attribute, value in element.attrib.items():
            assert attribute == "href" and value.startswith("#"), (element.tag, attribute)
    # Tables keep their columns: no `|` of the user's splits a cell.
    width = None
    for line in markdown.split("\n"):
        if not line.startswith("|"):
            width = None
            continue
        cells = len(re.findall(r"(?<!\\)\|", line)) - 1
        width = cells if width is None else width
        assert cells == width, line


def assert_page_is_inert(page: str, ins: int, dels: int) -> None:
    found = elements(page)
    for element in found:
        assert element.tag in PAGE_ELEMENTS, element.tag
        for attribute, value in element.attrib.items():
            assert attribute in PAGE_ATTRIBUTES, (element.tag, attribute)
            if attribute == "href":
                assert value.startswith("#"), value
    styles = [e for e in found if e.tag == "style"]
    assert len(styles) == 1 and "<" not in (styles[0].text or "")
    assert sum(e.tag == "ins" for e in found) == ins
    assert sum(e.tag == "del" for e in found) == dels


def assert_text_is_plain(text: str) -> None:
    assert not english._CONTROL.search(text), repr(english._CONTROL.search(text).group())


# =============================================================================
# The property
# =============================================================================


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(hostile_programs())
def test_no_injection_into_summaries(case):
    agreement, amendment, _ = case
    result = api.analyse(SourceFile("gen.clause", agreement),
                         [SourceFile("first.clause", amendment)])
    assert result.ok, "\n".join(d.render(result.sources) for d in result.diagnostics)
    for as_of in (None, result.versions[0][1].header.dated):
        ins, dels = marks(result, as_of)
        assert_markdown_is_inert(summarize.render(result, "markdown", as_of), ins, dels)
        assert_page_is_inert(summarize.render(result, "html", as_of), ins, dels)
        assert_text_is_plain(summarize.render(result, "text", as_of))
    # The English of `eval --explain` is plain text too.
    module = api.module_from_source(api.generate(result), "gen.clause")
    facts = module.Facts()
    for version, (_, checked) in zip(module.VERSIONS, result.versions):
        for decl in checked.program.declarations:
            if isinstance(decl, (ir.Fact, ir.Exception_)):
                continue
            value = version.evaluate(decl.name, facts)
            tree = version.explain(decl.name, facts)
            assert_text_is_plain(summarize.render_explanation(
                checked, version.label, decl.name, tree, value))


def test_counterexample_text_is_escaped_in_every_format(tmp_path):
    """The review's case: a text fact of a counterexample, in "Same results?"."""
    from clausec import summarize as with_verdicts  # the semantic diff's, as the command
    (tmp_path / "gen.clause").write_text(textwrap.dedent("""\
        agreement gen "Gen Agreement" { dated 2004-01-01 }
        fact memo "the memo": text default "none"
        section 1 "One" {
          condition ok "the deal may close" = memo is "<script>alert(1)</script>"
        }
        """), encoding="utf-8")
    (tmp_path / "first.clause").write_text(textwrap.dedent("""\
        amendment first "First Amendment" amends gen { dated 2004-06-01 }
        replace section 1 "One" {
          condition ok "the deal may close" = memo is "<img src=x onerror=alert(1)>"
        }
        """), encoding="utf-8")
    ((agreement, amendments),) = api.group([tmp_path])
    result = api.analyse(SourceFile.read(agreement), [SourceFile.read(a) for a in amendments])
    markdown = with_verdicts(result, "markdown")
    verdict = next(line for line in markdown.splitlines() if "`ok`" in line).split(" | ")[-1]
    assert verdict.startswith("differs: e.g. when memo is \\<script\\>alert(1)\\</script\\>")
    assert "<script" not in MarkdownIt("commonmark", {"html": True}).enable("table") \
        .render(markdown)
    assert "when memo is &lt;script&gt;alert(1)&lt;/script&gt;" in \
        with_verdicts(result, "html")
    assert "when memo is <script>alert(1)</script>" in with_verdicts(result, "text")


# =============================================================================
# The escaping of each format
# =============================================================================


@given(st.text())
def test_escaping_is_idempotent_and_keeps_the_words(text):
    for fmt in FORMATS:
        esc = english.escaper(fmt)
        assert esc(esc(text)) == esc(text)
    escaped = english.md_escape(text)
    assert "\n" not in escaped
    # Markdown renders the escaped text as the text itself (bar what is invisible).
    shown = MarkdownIt("commonmark").renderInline(escaped)
    expected = english.strip_controls(text).replace("\n", " ")
    assert html.unescape(shown) == expected


def test_markdown_escapes_what_markdown_reads():
    assert english.md_escape("<b>x</b> & a | b *c* `d` [e](f) # g ~h~ \\") == \
        "\\<b\\>x\\</b\\> & a \\| b \\*c\\* \\`d\\` \\[e\\](f) \\# g \\~h\\~ \\\\"
    assert english.md_escape("&lt;b&gt; &#60;") == "\\&lt;b\\&gt; \\&\\#60;"
    assert english.md_escape("closing_date _x_") == "closing_date \\_x\\_"
    assert english.md_escape("a\nb\x1b[0m\u202e") == "a b\\[0m"


# =============================================================================
# User templates run in the sandbox
# =============================================================================

MALICIOUS = [
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "__class__"),
    ("{{ cycler.__init__.__globals__.os.system('touch {marker}') }}", "__init__"),
    ("{{ lipsum.__globals__['os'].system('touch {marker}') }}", "__globals__"),
    ("{{ self._TemplateReference__context }}", "_TemplateReference__context"),
    ("{{ lex.checked|attr('__class__') }}", "__class__"),
    ("{{ '{0.__class__.__mro__}'.format(lex) }}", "__class__"),
    ("{{ 'x' * 10 ** 10 }}", "too large"),
    ("{{ summary.title.__class__.__base__.__subclasses__() }}", "__class__"),
]


@pytest.mark.parametrize(("payload", "said"), MALICIOUS, ids=range(len(MALICIOUS)))
def test_malicious_template_is_an_error_that_runs_nothing(capsys, tmp_path, payload, said):
    marker = tmp_path / "ran"
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "summary.md.j2").write_text(
        "# {{ summary.title }}\n\n" + payload.replace("{marker}", str(marker)) + "\n",
        encoding="utf-8")
    code = main(["summarize", str(PATENT), "--templates", str(templates)])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert f"{templates / 'summary.md.j2'}:3: " in err and said in err
    assert "Traceback" not in err and not marker.exists()


def test_malicious_english_template_is_caught_where_it_is_used(capsys, tmp_path):
    """english.j2 runs while the summary is being built (the amendments' before and
    after), not only inside the layout template."""
    templates = tmp_path / "templates"
    templates.mkdir()
    english_j2 = (summarize.TEMPLATES / "english.j2").read_text(encoding="utf-8")
    (templates / "english.j2").write_text(english_j2.replace(
        "{%- macro node(x, as_=\"value\", pos=true, st=-1) -%}\n",
        "{%- macro node(x, as_=\"value\", pos=true, st=-1) -%}\n"
        "{{ x.__class__.__init__.__globals__ }}\n"), encoding="utf-8")
    code = main(["summarize", str(PATENT), "--templates", str(templates), "--format", "text"])
    err = capsys.readouterr().err
    assert code == 1 and f"{templates / 'english.j2'}:" in err and "is unsafe" in err
    assert "Traceback" not in err


def test_a_failing_user_template_names_its_line(capsys, tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "summary.txt.j2").write_text("{{ summary.title }}\n{{ 1 / 0 }}\n",
                                              encoding="utf-8")
    code = main(["summarize", str(PATENT), "--templates", str(templates), "--format", "text"])
    err = capsys.readouterr().err
    assert code == 1 and f"{templates / 'summary.txt.j2'}:2: ZeroDivisionError" in err


def test_user_templates_still_do_their_work_in_the_sandbox(capsys, tmp_path):
    """What a layout needs stays allowed: macros, loops, lists, the lexicon, filters."""
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "summary.md.j2").write_text(textwrap.dedent("""\
        {% import "english.j2" as en with context %}
        {% set names = [] %}
        {% for e in summary.glossary %}{% set _ = names.append(e.name) %}{% endfor %}
        # {{ summary.title|upper }} ({{ names|length }} terms)
        {% for e in summary.glossary[:2] %}
        - {{ en.node(e.decl)|sentence }} {{ e.name|code }}
        {% endfor %}
        """), encoding="utf-8")
    code = main(["summarize", str(PATENT), "--templates", str(templates)])
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("# PATENT PURCHASE AGREEMENT (")
    assert "`" in out and "means" in out


# =============================================================================
# An amendment's title with a quote in it
# =============================================================================


def test_amendment_title_with_an_escaped_quote_is_an_amendment(capsys, tmp_path):
    (tmp_path / "gen.clause").write_text(textwrap.dedent("""\
        agreement gen "Gen Agreement" { dated 2004-01-01 }
        fact x: bool default false
        section 1 "One" { condition ok "the deal may close" = x }
        """), encoding="utf-8")
    (tmp_path / "first.clause").write_text(textwrap.dedent("""\
        amendment first "First \\"Amendment\\" to \\\\ the Agreement" amends gen {
          dated 2004-06-01
        }
        replace section 1 "One" { condition ok "the deal may close" = not x }
        """), encoding="utf-8")
    assert api.group([tmp_path]) == [(tmp_path / "gen.clause", [tmp_path / "first.clause"])]
    code = main(["summarize", str(tmp_path), "--format", "text"])
    out = capsys.readouterr().out
    assert code == 0 and 'First "Amendment" to \\ the Agreement' in out
