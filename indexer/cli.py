"""The indexer's commands: index, generate, withdraw, repair."""

from __future__ import annotations

import fcntl
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from analyzers.encoders import CORPUS, NONE, EncoderSettings, EncoderUnavailable, check_encoder
from indexer import corrections
from indexer.embedding import refresh
from indexer.model import RecordType, Status
from indexer.parsing import ValueProblem, parse_date
from indexer.pipeline import describe, load
from stores.base import Rebuildable, Store, StoreUnavailable
from stores.factory import open_store
from stores.settings import StoreSettings

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="数据目录（默认 $CREDIT_SEARCH_DATA_DIR 或 ./data）")]


def settings_for(data_dir: Path | None, store: str | None = None) -> StoreSettings:
    """Store settings from the environment, overridden by command-line options."""
    settings = StoreSettings()
    if data_dir is not None:
        settings.data_dir = data_dir
    if store is not None:
        settings.store = store
    return settings


def open_or_exit(settings: StoreSettings, create: bool = True) -> Store:
    """The configured store, or exit 2 with a Chinese message saying why it cannot be opened."""
    try:
        return open_store(settings, create=create)
    except StoreUnavailable as exc:
        message = settings.problem() or f"{settings.data_dir} 中没有索引，请先运行 credit-search index"
        typer.echo(f"错误：{message}", err=True)
        raise typer.Exit(2) from exc


def run_embedding(store: Store, data_dir: Path, retrain: bool = False, background: str | None = None) -> None:
    """Bring semantic search up to date (fit or refit the built-in encoder, encode new texts, publish the
    vectors); exits 2 with a Chinese message only when the configured encoder cannot be loaded. Too little text
    for semantic search is said, not failed: keyword search serves meanwhile. With ``background`` (the store
    option to pass on), a configured model other than the built-in one is left to a ``credit-search embed``
    started in the background, while the built-in encoder serves."""
    settings = EncoderSettings()
    choice = settings.encoder.strip() or NONE
    slow = choice not in (CORPUS, NONE)
    try:
        outcome = refresh(store, settings, data_dir, retrain, progress=True, configured=background is None)
    except EncoderUnavailable as exc:
        typer.echo(f"错误：{exc}", err=True)
        raise typer.Exit(2) from exc
    if outcome.note:
        typer.echo(f"语义向量：{outcome.note}")
    if outcome.summary is not None:
        typer.echo(outcome.summary.describe())
    elif not outcome.note and choice != NONE:
        typer.echo("语义向量：索引中没有可编码的描述文本，跳过")
    if slow and background is not None:
        log = _start_embedding(data_dir, background)
        typer.echo(f"语义向量（{choice}）：正在后台编码（进度见 /readyz，日志 {log}）；"
                   "完成前由内置语义模型提供语义检索")


def _start_embedding(data_dir: Path, store: str) -> Path:
    """``credit-search embed`` in a process of its own that outlives this one; its log path."""
    log = Path(data_dir) / "embed.log"
    command = [sys.argv[0], "embed", "--data-dir", str(data_dir), *(["--store", store] if store else [])]
    with log.open("ab") as out:
        subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True)
    return log


def index(
    paths: Annotated[list[Path], typer.Argument(help="CSV / XLSX / JSON / JSONL 文件")],
    type_: Annotated[str, typer.Option("--type", help="auto|licensing|penalty|dishonest|commitment")] = "auto",
    data_dir: DataDir = None,
    store: Annotated[str | None, typer.Option("--store", help="embedded|elasticsearch|opensearch")] = None,
    sheet: Annotated[str | None, typer.Option("--sheet", help="只读取 XLSX 中的这个工作表")] = None,
    rebuild: Annotated[bool, typer.Option(
        "--rebuild", help="Elasticsearch / OpenSearch：建新一代索引，加载完成后切换别名")] = False,
    workers: Annotated[int | None, typer.Option("--workers", help="分析进程数（默认用满两个核）")] = None,
    with_vectors: Annotated[bool, typer.Option("--embed/--no-embed",
                                        help="加载后编码语义向量（CREDIT_SEARCH_ENCODER 为 none 时不编码）")] = True,
) -> None:
    """Load department files into the store, then encode their texts for semantic search. Exit 0: all
    rows indexed; 3: some rows rejected (see the reject report); 2: some input unusable."""
    if type_ != "auto" and type_ not in {t.value for t in RecordType}:
        typer.echo(f"错误：--type 的值“{type_}”无效，应为 auto、licensing、penalty、dishonest 或 commitment", err=True)
        raise typer.Exit(2)
    settings = settings_for(data_dir, store)
    if with_vectors:
        try:  # a missing model should stop the command before a long load, not after it
            check_encoder(EncoderSettings().encoder)
        except EncoderUnavailable as exc:
            typer.echo(f"错误：{exc}", err=True)
            raise typer.Exit(2) from exc
    target = open_or_exit(settings)
    if rebuild and not isinstance(target, Rebuildable):
        target.close()
        typer.echo("错误：--rebuild 仅适用于 Elasticsearch 或 OpenSearch 存储", err=True)
        raise typer.Exit(2)
    try:
        if isinstance(target, Rebuildable) and rebuild:
            target.begin_rebuild()
        summary = load(paths, target, None if type_ == "auto" else RecordType(type_),
                       reject_dir=settings.data_dir / "rejects", workers=workers, progress=True, sheet=sheet)
        typer.echo(describe(summary))
        if with_vectors:
            run_embedding(target, settings.data_dir, background=store or "")
        if isinstance(target, Rebuildable) and rebuild and not summary.unusable:
            target.finish_rebuild()
    except StoreUnavailable as exc:
        # An engine that went away (or was never there) mid-load: what was written stays, and loads are
        # idempotent, so running the same command again once the store answers completes it.
        typer.echo(f"错误：存储不可用，加载中断（{exc}）。已写入的记录保留，存储恢复后重新运行同一命令即可补全",
                   err=True)
        raise typer.Exit(2) from exc
    finally:
        target.close()
    raise typer.Exit(summary.exit_code)


def embed(
    data_dir: DataDir = None,
    store: Annotated[str | None, typer.Option("--store", help="embedded|elasticsearch|opensearch")] = None,
    retrain: Annotated[bool, typer.Option("--retrain", help="重新训练内置语义模型（之后全部文本重新编码）")] = False,
) -> None:
    """Encode the indexed texts that have no vector of the configured encoder yet and publish them. One run at a
    time per data directory: a second waits for the first (then finds little left to do); a killed run's vectors
    are kept and a rerun continues."""
    settings = settings_for(data_dir, store)
    target = open_or_exit(settings, create=False)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with (settings.data_dir / "embed.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            run_embedding(target, settings.data_dir, retrain)
        finally:
            target.close()


def generate(
    records: Annotated[int, typer.Option("--records", help="记录条数")] = 10000,
    seed: Annotated[int, typer.Option("--seed", help="随机种子（相同种子生成相同语料）")] = 1,
    out: Annotated[Path, typer.Option("--out", help="输出目录")] = Path("corpus"),
) -> None:
    """Write a realistic synthetic corpus of all four record types."""
    from indexer.generate import generate as run

    manifest = run(records, seed, out)
    typer.echo(f"已生成 {manifest['records']} 条记录到 {out}（{len(manifest['files'])} 个文件，"
               f"另有更正文件 {manifest['corrections_file']}）")


def _when(text: str | None) -> date | None:
    try:
        return parse_date(text) if text else date.today()
    except ValueProblem as exc:
        typer.echo(f"错误：--date {exc}", err=True)
        raise typer.Exit(2) from exc


def _correct(record_id: str | None, file: Path | None, status: Status, reason: str, when: date | None,
             data_dir: Path | None) -> None:
    store = open_or_exit(settings_for(data_dir), create=False)
    try:
        if file is not None:
            result = corrections.load_corrections(file, store)
            typer.echo(f"已更正 {result.applied} 条记录")
            for problem in result.problems:
                typer.echo(problem, err=True)
            raise typer.Exit(3 if result.problems else 0)
        if not record_id:
            typer.echo("错误：请提供记录ID或 --file", err=True)
            raise typer.Exit(2)
        if not store.set_status(record_id, status, reason, when):
            typer.echo(f"错误：记录 {record_id} 不存在", err=True)
            raise typer.Exit(2)
        typer.echo(f"记录 {record_id} 已标记为“{status.label}”")
    finally:
        store.close()


def withdraw(
    record_id: Annotated[str | None, typer.Argument(help="记录ID")] = None,
    reason: Annotated[str, typer.Option("--reason", help="撤销原因（异议更正/撤销）")] = "异议核实后撤销",
    date_: Annotated[str | None, typer.Option("--date", help="撤销日期（默认今天）")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="批量更正文件（CSV/XLSX）")] = None,
    data_dir: DataDir = None,
) -> None:
    """Withdraw a record after an objection (异议更正/撤销): hidden from the public, kept for staff."""
    _correct(record_id, file, Status.WITHDRAWN, reason, _when(date_), data_dir)


def repair(
    record_id: Annotated[str | None, typer.Argument(help="记录ID")] = None,
    date_: Annotated[str | None, typer.Option("--date", help="信用修复完成日期（默认今天）")] = None,
    reason: Annotated[str, typer.Option("--reason", help="说明")] = "信用修复完成",
    file: Annotated[Path | None, typer.Option("--file", help="批量更正文件（CSV/XLSX）")] = None,
    data_dir: DataDir = None,
) -> None:
    """Mark a record as repaired (信用修复): hidden from the public, kept for staff."""
    _correct(record_id, file, Status.REPAIRED, reason, _when(date_), data_dir)


def register(app: typer.Typer) -> None:
    """Add the indexer's commands to the main command."""
    app.command("index")(index)
    app.command("embed")(embed)
    app.command("generate")(generate)
    app.command("withdraw")(withdraw)
    app.command("repair")(repair)
