"""The Python backend: `codegen` writes a standalone, standard-library-only module; the
runtime (`runtime`, `runtime_eval`) is pasted into it; `schema` is the JSON Schema of
its facts."""
