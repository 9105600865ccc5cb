"""The language server (pygls): `server` answers the editor, `workspace` keeps the files
and their analyses, `navigation` finds definitions, references and symbols."""
