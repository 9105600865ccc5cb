"""The English backend: `wording` (how each IR node reads, with the jinja2 macros in
`templates/english.j2`) and `summaries` (the summary of an agreement as amended, in
Markdown, HTML and text, and the English of explanations)."""
