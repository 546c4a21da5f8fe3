"""Chinese sample values of the benchmarks' SYNTHETIC data (data, not interface words, so they live in synth/).

The 15 Linyi assessment units are real place names (the order of :data:`mujun.synth.calibration.COUNTIES`);
every firm and town is invented.
"""

from __future__ import annotations

from mujun.synth.calibration import COUNTIES

LINYI_UNITS: tuple[tuple[str, str], ...] = tuple((name, division) for name, division, _, _ in COUNTIES)
FIRM_PREFIX = "合成企业"  # bench.synthetic: 合成企业000123（示例）
FIRM_SUFFIX = "（示例）"
TOWN_WORD = "示例镇"  # 兰山区示例镇03
NO_SUCH_FIRM = "不存在的企业"  # a search that finds nothing (bench.web)

# bench.import_bench: a tax-bureau workbook as sent (title rows, amounts in 元)
TAX_SHEET = "税收（合成）"
TAX_TITLE = "2023年度工业企业税收情况表（合成数据 SYNTHETIC）"
TAX_UNIT_ROW = "单位：元"
TAX_HEADER = ("序号", "纳税人识别号（统一社会信用代码）", "纳税人名称", "所属年度", "税收合计（元）")
TAX_FIRM = "临沂合成企业{i:06d}有限公司（合成）"
SYNTHETIC_NAME_MARK = "（合成）"  # ends every firm name synth.firmyears writes (the web marks such firms)
