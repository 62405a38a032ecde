"""The project's judged query set for semantic search, and its evaluation (recall@10, nDCG@10).

Each query is judged by a rule over the generated corpus: a record is relevant when it is of the query's
record type and one of its fields contains one of the given phrases (the violation type of a penalty, the
licence name, the court's description of the conduct, the commitment type …). Direct queries use the
records' own words; paraphrases say the same thing in other words, and :func:`shared_words` checks that a
paraphrase shares no content word with any relevant record's text (the evaluation reports any that do).

recall@10 is the relevant share of the first ten results, capped by the number of relevant records
(``|relevant ∩ top 10| / min(10, |relevant|)``); nDCG@10 uses binary gains. Both are averaged over queries.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from analyzers.tokens import index_tokens, query_tokens
from indexer.analysis import SEMANTIC_FIELDS
from indexer.model import Record, RecordType
from search_api.publication import Viewer
from search_api.service import SearchParams, SearchService

P, L, D, C = RecordType.PENALTY, RecordType.LICENSING, RecordType.DISHONEST, RecordType.COMMITMENT


@dataclass(frozen=True, slots=True)
class Judged:
    query: str
    paraphrase: bool
    record_type: RecordType
    field: str  # a details field
    phrases: tuple[str, ...]  # relevant when the field contains one of these ("" matches every record)
    project: str = ""  # and, when given, the record's project or facts mention it

    def relevant(self, record: Record) -> bool:
        if record.record_type is not self.record_type:
            return False
        value = record.details.get(self.field, "")
        if not any(p in value for p in self.phrases):
            return False
        return not self.project or self.project in record.details.get("project_name", "") + \
            record.details.get("facts", "")


def _pair(record_type: RecordType, field: str, phrases: str | tuple[str, ...], direct: str,
          *paraphrases: str) -> list[Judged]:
    wanted = (phrases,) if isinstance(phrases, str) else phrases
    return [Judged(direct, False, record_type, field, wanted)] + \
        [Judged(p, True, record_type, field, wanted) for p in paraphrases]


QUERIES: tuple[Judged, ...] = tuple([
    # 行政处罚, by violation type
    *_pair(P, "violation_type", "销售过期食品", "哪些企业因为销售过期食品被处罚", "卖变质的牛奶"),
    *_pair(P, "violation_type", "未取得食品经营许可", "无证从事食品经营", "没办证就开饭馆卖吃的"),
    *_pair(P, "violation_type", "健康证明", "从业人员未取得健康证明", "厨师没体检就上岗"),
    *_pair(P, "violation_type", "不明码标价", "未明码标价", "货架上看不到价签"),
    *_pair(P, "violation_type", "哄抬价格", "疫情期间哄抬价格", "灾难时候坐地起价"),
    *_pair(P, "violation_type", "超标排放水污染物", "废水超标排放", "往河里偷排脏水"),
    *_pair(P, "violation_type", "未验收擅自投入生产", "环境保护设施未经验收投入生产", "治污设备没检查合格就开工"),
    *_pair(P, "violation_type", "未取得施工许可证擅自施工", "没有施工许可证擅自开工", "未经批准就动工盖楼"),
    *_pair(P, "violation_type", "违法分包", "违法分包给不具备资质的单位", "把活儿转手给没本事的包工队"),
    *_pair(P, "violation_type", "安全生产教育培训", "未开展安全生产教育培训", "新来的工人没人教就上岗"),
    *_pair(P, "violation_type", "重大事故隐患", "重大事故隐患未排除", "明知危险还继续干活不整改"),
    *_pair(P, "violation_type", "超限运输", "车辆超限运输", "货车装得太重"),
    *_pair(P, "violation_type", "未取得道路运输经营许可", "无道路运输经营许可从事货运", "没证跑物流拉货"),
    *_pair(P, "violation_type", "消防设施未保持完好有效", "消防设施未保持完好有效", "灭火器坏了没人修"),
    *_pair(P, "violation_type", "堵塞消防通道", "堵塞疏散通道和安全出口", "逃生楼梯被杂物挡住"),
    *_pair(P, "violation_type", "施工工地扬尘污染", "建筑工地扬尘没有覆盖", "尘土漫天飞"),
    *_pair(P, "violation_type", "渣土运输车辆未密闭", "渣土车未密闭沿途抛洒", "泥头车一路掉泥巴"),
    # 行政许可, by licence
    *_pair(L, "document_name", "食品经营许可", "食品经营许可证", "开餐厅要办的证"),
    *_pair(L, "document_name", "建筑工程施工许可", "建筑工程施工许可", "盖楼动工的批文"),
    *_pair(L, "document_name", "排污许可", "排污许可证", "工厂往外排脏东西的批准"),
    *_pair(L, "document_name", "道路运输经营许可", "道路运输经营许可", "物流公司拉货的证"),
    *_pair(L, "document_name", "药品经营许可", "药品零售经营许可", "开药店"),
    *_pair(L, "document_name", "公共场所卫生许可", "美容美发场所卫生许可", "理发店宾馆开业批准"),
    # 失信被执行人, by conduct
    *_pair(D, "category", "", "失信被执行人名单", "欠钱不还的老赖"),
    *_pair(D, "category", "有履行能力而拒不履行", "有履行能力而拒不履行生效法律文书", "有钱也不还法院定下的欠款"),
    *_pair(D, "category", "违反财产报告制度", "违反财产报告制度", "隐瞒名下房产存款不申报"),
    *_pair(D, "category", "违反限制消费令", "违反限制消费令", "被限高了还坐飞机住豪华酒店"),
    *_pair(D, "category", "妨碍、抗拒执行", "以暴力威胁方法妨碍抗拒执行", "阻挠法院查封"),
    # 信用承诺, by type
    *_pair(C, "category", "容缺受理型", "容缺受理承诺", "资料没带齐先办后补"),
    *_pair(C, "category", "信用修复型", "申请信用修复承诺", "改过自新的保证"),
    *_pair(C, "category", "证明事项型", "以告知承诺替代证明材料", "不用跑派出所开条子"),
    *_pair(C, "category", "行业自律型", "接受行业协会监督的承诺", "同行组织管着的保证"),
    *_pair(C, "category", "主动型", "主动承诺不销售假冒伪劣商品", "自愿保证不卖假货"),
    # Several facts at once
    Judged("北江一路改造工程扬尘污染", False, P, "violation_type", ("施工工地扬尘污染",), "北江一路"),
    Judged("清城区人民医院新院区施工许可", False, L, "document_name", ("建筑工程施工许可",), "清城区人民医院"),
    Judged("英德市工业园标准厂房违法分包", False, P, "violation_type", ("违法分包",), "英德市工业园"),
])

MODES = ("keyword", "semantic", "hybrid")


def _content_words(text: str) -> set[str]:
    return {t for t in index_tokens(text) if len(t) >= 2}


def shared_words(judged: Judged, records: Iterable[Record]) -> set[str]:
    """Content words (two characters or more) that a query shares with the texts of its relevant records."""
    words = _content_words(judged.query) | {t for t in query_tokens(judged.query) if len(t) >= 2}
    shared: set[str] = set()
    for record in records:
        if judged.relevant(record):
            text = "；".join(record.details.get(f, "") for f in SEMANTIC_FIELDS[record.record_type])
            shared |= words & _content_words(text)
    return shared


def _dcg(gains: list[int]) -> float:
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def scores(relevant_flags: list[bool], relevant_total: int) -> tuple[float, float]:
    """recall@10 and nDCG@10 of one ranking (flags of its first ten results)."""
    flags = relevant_flags[:10]
    ideal = min(10, relevant_total)
    if ideal == 0:
        return 0.0, 0.0
    recall = sum(flags) / ideal
    ndcg = _dcg([int(f) for f in flags]) / _dcg([1] * ideal)
    return recall, ndcg


@dataclass(slots=True)
class QueryResult:
    judged: Judged
    mode: str
    recall: float
    ndcg: float
    relevant_total: int


def evaluate(service: SearchService, records: list[Record], viewer: Viewer,
             modes: Iterable[str] = MODES) -> list[QueryResult]:
    """Run every judged query in every mode through the search service; ``records`` are the records the
    viewer may see (the relevant totals are counted over them)."""
    results = []
    for judged in QUERIES:
        total = sum(1 for r in records if judged.relevant(r))
        for mode in modes:
            answer = service.search(SearchParams(q=judged.query, size=10, mode=mode), viewer)  # type: ignore[arg-type]
            assert answer is not None
            found = [service.store.get(item["id"]) for item in answer["items"]]
            flags = [r is not None and judged.relevant(r) for r in found]
            recall, ndcg = scores(flags, total)
            results.append(QueryResult(judged, mode, recall, ndcg, total))
    return results


def summarise(results: list[QueryResult]) -> dict[str, dict[str, dict[str, float]]]:
    """Mean recall@10 and nDCG@10 per mode, for all queries, direct ones and paraphrases."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for mode in dict.fromkeys(r.mode for r in results):
        out[mode] = {}
        for subset, keep in (("all", lambda r: True), ("direct", lambda r: not r.judged.paraphrase),
                             ("paraphrase", lambda r: r.judged.paraphrase)):
            chosen = [r for r in results if r.mode == mode and keep(r)]
            out[mode][subset] = {"queries": len(chosen),
                                 "recall@10": sum(r.recall for r in chosen) / max(1, len(chosen)),
                                 "ndcg@10": sum(r.ndcg for r in chosen) / max(1, len(chosen))}
    return out


def table(summary: dict[str, dict[str, dict[str, float]]]) -> str:
    """A Markdown table of :func:`summarise`'s output."""
    lines = ["| mode | all recall@10 | all nDCG@10 | direct recall@10 | direct nDCG@10 | paraphrase recall@10 | "
             "paraphrase nDCG@10 |", "|---|---|---|---|---|---|---|"]
    for mode, subsets in summary.items():
        cells: list[Any] = [mode]
        for subset in ("all", "direct", "paraphrase"):
            cells += [f"{subsets[subset]['recall@10']:.3f}", f"{subsets[subset]['ndcg@10']:.3f}"]
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    return "\n".join(lines)
