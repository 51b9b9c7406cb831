"""The todo app in marimo: `marimo edit notebooks/todo_marimo.py` or `marimo run ...`.

Each `marimo run` visitor has a session of their own. The "poke" button changes the list from
kernel code that is not an event handler, as a cell would.
"""

import marimo

app = marimo.App()


@app.cell
def _():
    import asyncio

    import marimo as mo

    import nbstate as ns

    class Todo(ns.State):
        items: list[str] = []
        draft: str = ""
        saving: bool = False

        @ns.computed
        def status(self) -> str:
            return "saving…" if self.saving else f"{len(self.items)} item(s)"

        async def add(self):
            if not self.draft.strip():
                raise ValueError("type an item first")
            self.saving = True
            yield
            await asyncio.sleep(0.3)
            self.items.append(self.draft)
            self.draft, self.saving = "", False

    return Todo, mo, ns


@app.cell
def _(Todo, ns):
    ns.show(Todo)
    return


@app.cell
def _(Todo, mo, ns):
    todo = ns.get_state(Todo)
    poke = mo.ui.button(label="poke", on_click=lambda _: todo.items.append("from the kernel"))
    poke
    return (todo,)


if __name__ == "__main__":
    app.run()
