"""The ``credit-search`` command: the indexer's commands plus serve and demo."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer

from indexer.cli import register, settings_for
from stores.factory import open_store
from stores.settings import StoreSettings

app = typer.Typer(help="credit-search：公共信用信息检索服务", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)
register(app)


def _serve(store_settings: StoreSettings, host: str, port: int) -> None:
    import uvicorn

    from search_api.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    uvicorn.run(create_app(store_settings), host=host, port=port, log_level="warning", access_log=False)


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="数据目录")] = None,
    store: Annotated[str | None, typer.Option("--store", help="embedded|elasticsearch")] = None,
) -> None:
    """Serve the search API over the indexed store."""
    _serve(settings_for(data_dir, store), host, port)


@app.command()
def demo(
    records: Annotated[int, typer.Option("--records", help="演示语料条数")] = 20000,
    seed: Annotated[int, typer.Option("--seed")] = 2026,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    data_dir: Annotated[Path, typer.Option("--data-dir", help="演示数据目录")] = Path("demo-data"),
) -> None:
    """Generate a realistic demo corpus, index it into the embedded store and serve it."""
    from indexer.corrections import load_corrections
    from indexer.generate import generate
    from indexer.pipeline import describe, load

    corpus = data_dir / "corpus"
    settings = settings_for(data_dir, "embedded")
    if not (corpus / "manifest.json").exists():
        typer.echo(f"生成演示语料（{records} 条）到 {corpus} …")
        generate(records, seed, corpus)
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    store = open_store(settings)
    if store.count() == 0:
        typer.echo("建立索引 …")
        summary = load([corpus / name for name in manifest["files"]], store, reject_dir=data_dir / "rejects",
                       progress=True)
        typer.echo(describe(summary))
        result = load_corrections(corpus / manifest["corrections_file"], store)
        typer.echo(f"已应用更正（信用修复/撤销）{result.applied} 条")
    sample = next(iter(store.suggest("清远市", 1)), None)
    store.close()
    typer.echo(f"\n服务地址：http://{host}:{port}/docs")
    if sample is not None:
        typer.echo(f"试一试：http://{host}:{port}/v1/search?q={sample.name}")
        typer.echo(f"        http://{host}:{port}/v1/entities/{sample.code}")
    typer.echo(f"        http://{host}:{port}/v1/suggest?q=qy")
    _serve(settings, host, port)


def main() -> None:
    """Console-script entry point."""
    app()
