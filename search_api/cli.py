"""The ``credit-search`` command: the indexer's commands plus serve and demo."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer

from indexer.cli import open_or_exit, register, run_embedding, settings_for
from stores.settings import StoreSettings

REQUEST_HEAD_BYTES = 2 * 2**20
app = typer.Typer(help="credit-search：公共信用信息检索服务", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)
register(app)


def _serve(store_settings: StoreSettings, host: str, port: int, workers: int = 1) -> None:
    import os

    import uvicorn

    from analyzers.encoders import EncoderSettings, EncoderUnavailable, check_encoder
    from search_api.app import create_app

    if problem := store_settings.problem():
        typer.echo(f"错误：{problem}", err=True)
        raise typer.Exit(2)
    try:  # say where the model was looked for before uvicorn starts, not in a start-up traceback
        check_encoder(EncoderSettings().encoder)
    except EncoderUnavailable as exc:
        typer.echo(f"错误：{exc}", err=True)
        raise typer.Exit(2) from exc

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # A request head up to this size reaches the app, which answers a URL past its own limit in Chinese (414);
    # beyond it uvicorn refuses the request itself.
    options: dict[str, Any] = {"host": host, "port": port, "log_level": "warning", "access_log": False,
                               "h11_max_incomplete_event_size": REQUEST_HEAD_BYTES}
    if workers == 1:
        uvicorn.run(create_app(store_settings), **options)
        return
    # Worker processes build their app from the environment, so the command line's choices go there.
    os.environ.update({"CREDIT_SEARCH_DATA_DIR": str(store_settings.data_dir),
                       "CREDIT_SEARCH_STORE": store_settings.store})
    uvicorn.run("search_api.app:create_app", factory=True, workers=workers, **options)


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="数据目录")] = None,
    store: Annotated[str | None, typer.Option("--store", help="embedded|elasticsearch|opensearch")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=16,
                                         help="工作进程数（每个进程各有一份名称索引）")] = 1,
) -> None:
    """Serve the search API over the indexed store."""
    _serve(settings_for(data_dir, store), host, port, workers)


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
    store = open_or_exit(settings)
    if store.count() == 0:
        typer.echo("建立索引 …")
        summary = load([corpus / name for name in manifest["files"]], store, reject_dir=data_dir / "rejects",
                       progress=True)
        typer.echo(describe(summary))
        result = load_corrections(corpus / manifest["corrections_file"], store)
        typer.echo(f"已应用更正（信用修复/撤销）{result.applied} 条")
    # Also on a second run: a demo indexed before semantic search existed gets its vectors now, and one
    # that has them re-publishes them in a moment.
    # A configured model slower than the built-in one encodes in the background: the demo serves at once.
    run_embedding(store, data_dir, background="")
    sample = next(iter(store.suggest("清远市", 1)), None)
    store.close()
    key = _demo_staff_key(data_dir)
    base = f"http://{host}:{port}"
    typer.echo(f"\n查询页面：{base}/")
    typer.echo(f"核查工作台：{base}/staff    工作人员密钥（API Key）：{key}（保存在 {data_dir / _DEMO_KEY_FILE}）")
    typer.echo(f"接口文档：{base}/docs")
    if sample is not None:
        typer.echo(f"试一试：{base}/v1/search?q={quote(sample.name)}")
        typer.echo(f"        {base}/v1/entities/{quote(sample.code)}")
    typer.echo(f"        {base}/v1/suggest?q={quote('清远')}")
    _serve(settings, host, port)


_DEMO_KEY_FILE = "staff-key.txt"


def _demo_staff_key(data_dir: Path) -> str:
    """The demo's staff key: made once per data directory (readable by its owner only), and configured for the
    server this process starts, beside any keys set in CREDIT_SEARCH_API_KEYS."""
    import os
    import secrets

    path = data_dir / _DEMO_KEY_FILE
    if not path.exists():
        path.write_text(secrets.token_urlsafe(18) + "\n", encoding="utf-8")
        path.chmod(0o600)
    key = path.read_text(encoding="utf-8").strip()
    configured = os.environ.get("CREDIT_SEARCH_API_KEYS", "").strip()
    os.environ["CREDIT_SEARCH_API_KEYS"] = ",".join(k for k in (configured, f"{key}:staff") if k)
    return key


@app.command()
def screen(
    file: Annotated[Path, typer.Argument(help="待筛查的 CSV 或 XLSX（表头含名称或统一社会信用代码列）")],
    out: Annotated[Path, typer.Option("--out", help="结果文件：.xlsx、.csv 或 .json")] = Path("screening.xlsx"),
    threshold: Annotated[float, typer.Option("--threshold", min=0.5, max=1.0, help="确认为同一主体的最低匹配度")] = 0.9,
    public: Annotated[bool, typer.Option("--public", help="按公众视图筛查（默认按员工视图）")] = False,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="数据目录")] = None,
    store: Annotated[str | None, typer.Option("--store", help="embedded|elasticsearch|opensearch")] = None,
) -> None:
    """Screen a list of bidders or applicants and write the verdicts next to the input columns."""
    import getpass

    from search_api.errors import ApiError
    from search_api.publication import PUBLIC_ROLE, Viewer
    from search_api.screen_files import ScreenFileError, read_items, to_csv, to_xlsx
    from search_api.screening import Screener, audit_log_path, policy_for, screen_and_audit
    from search_api.service import SearchService
    from search_api.settings import ApiSettings
    from stores.base import StoreUnavailable

    if out.suffix.lower() not in (".xlsx", ".csv", ".json"):
        raise typer.BadParameter("结果文件须为 .xlsx、.csv 或 .json", param_hint="--out")
    api_settings = ApiSettings()
    try:
        raw = file.read_bytes()
        headers, items = read_items(file.name, raw, api_settings.max_screen_rows)
    except FileNotFoundError as exc:
        typer.echo(f"文件不存在：{file}", err=True)
        raise typer.Exit(2) from exc
    except OSError as exc:
        typer.echo(f"无法读取文件（权限不足或不是普通文件）：{file}", err=True)
        raise typer.Exit(2) from exc
    except ScreenFileError as exc:
        typer.echo(f"无法筛查 {file}：{exc}", err=True)
        raise typer.Exit(2) from exc
    settings = settings_for(data_dir, store)
    service = SearchService(open_or_exit(settings, create=False), api_settings)
    try:
        service.names.current()
    except StoreUnavailable as exc:
        typer.echo(f"检索数据不可用，请先用 credit-search index 建立索引或检查存储连接：{settings.data_dir}", err=True)
        raise typer.Exit(2) from exc
    viewer = Viewer(PUBLIC_ROLE if public else "staff", who=f"cli:{getpass.getuser()}")
    audit_log = audit_log_path(api_settings, settings.data_dir)
    try:
        outcome = screen_and_audit(Screener(service), items, viewer, policy_for(api_settings, threshold), audit_log,
                                   "cli", raw)
    except ApiError as exc:
        typer.echo(f"无法筛查 {file}：{exc.message}", err=True)
        raise typer.Exit(2) from exc
    suffix = out.suffix.lower()
    if suffix == ".json":
        out.write_text(json.dumps(outcome, ensure_ascii=False, indent=1), encoding="utf-8")
    else:
        out.write_bytes((to_xlsx if suffix == ".xlsx" else to_csv)(headers, items, outcome["results"]))
    s = outcome["summary"]
    typer.echo(f"已筛查 {s['rows']} 行：命中 {s['hit']}，需复核 {s['review']}，未发现不良记录 {s['clear']}，"
               f"无法筛查 {s['invalid']}。结果：{out}；审计日志：{audit_log}")


def main() -> None:
    """Console-script entry point."""
    app()
