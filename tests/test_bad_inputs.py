"""Bad input corpus (issue 7, item 3): every case goes through the real `duban` command in a
subprocess and must end with the documented exit code (DESIGN §8: 1 refused by the workflow
— not found, not permitted …; 2 bad usage or bad input), one Chinese sentence on stderr
starting with “错误:” that names what is wrong, no traceback, and nothing changed: neither
the database (its `iterdump()` before and after) nor the working folder (no new, changed or
removed file — an attachment copied by a refused submit, an empty database created by a
read command …).

The corpus lives in tests/bad_inputs/ (small text files, described in its README.md); Office
files and big inputs (a 50 MB plan, 10,000 columns, a 100,000-character requirement, a zip
bomb) are generated here at test time.

What argv cannot carry: a NUL byte (execve takes C strings; Python refuses "embedded null
byte" before the command runs) and an argument over MAX_ARG_STRLEN (128 KiB on Linux), so a
1 MB `--summary` is impossible. No command reads --summary/--comment from a file or stdin, so
NUL bytes are covered through files (plan, directory) and "huge" arguments are the largest
one argv allows (43,000 characters = 129,000 bytes of UTF-8).

The cases are data (CASES) checked by one parametrized test; they run side by side in a
module fixture, each in a folder of its own with its own copy of the database, because the
corpus is dozens of interpreter start-ups. Every command goes through `duban()` below: the
one place to add an authentication token for `user` once the CLI requires one.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import zipfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

import cli_helpers
from conftest import build_world, drive

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
TODAY = "2021-09-24"  # a Friday: reminders run, ledgers have something to show
HUGE = "公" * 43_000  # 129,000 bytes: just under Linux's 128 KiB limit for one argument
PG_NOBODY = "postgresql+psycopg://nobody@127.0.0.1:1/x"
# Who acts when a case names nobody: the administrator may do everything, so a refusal is
# about the input, never about permissions.
ADMIN = "吴管理"


# --------------------------------------------------------------------------- running duban


class _Deadline:
    """Stands in for the subprocess module inside cli_helpers for one call: same run(), own timeout."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def run(self, *args, **kwargs):
        kwargs["timeout"] = self.seconds
        return subprocess.run(*args, **kwargs)


def duban(*args: str, user: str | None = None, db: Path | str | None = None, cwd: Path | None = None,
          env: dict | None = None, today: str | None = TODAY, timeout: float | None = None,
          ) -> subprocess.CompletedProcess:
    """Run the real CLI. Every command of this file comes through here: authentication (a
    token for `user`) is added in this one place. Attachments go to <cwd>/data, never the repo.

    `user` defaults to the administrator; cli_helpers sends the token registered for `db`
    (see `register_copy`), so every command is authenticated as the user it names.

    `timeout` swaps the subprocess module cli_helpers uses for the one call; only the bespoke
    tests (run one at a time) use it, never the cases run side by side."""
    full_env = {"DUBAN_DATA": str((cwd or Path.cwd()) / "data"), **(env or {})}
    kw = dict(db=str(db) if db else None, user=user or ADMIN, today=today, env=full_env, cwd=cwd)
    if timeout is None:
        return cli_helpers.run(*args, **kw)
    real = cli_helpers.subprocess
    cli_helpers.subprocess = _Deadline(timeout)
    try:
        return cli_helpers.run(*args, **kw)
    finally:
        cli_helpers.subprocess = real


# --------------------------------------------------------------------------- the database


@dataclass
class Template:
    path: Path
    ids: dict[str, str]
    tokens: dict[str, str]

    def register_copy(self, copy: Path) -> None:
        """Let duban(db=copy, user=NAME) send NAME's token (issued in the template)."""
        cli_helpers.register_tokens(str(copy), self.tokens.get)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Template:
    """Built once: the conftest world (departments, users, published plan 1), assignment
    `doing` in progress, and plan 2 (naming a department missing from the directory) stored
    but not published, and a token for every user a command acts as. Tests copy the file."""
    from db.engine import make_engine
    from db.migrate import upgrade
    from workflow.clock import Clock
    from workflow.importers import load_plan
    from workflow.plans.store import store_plan

    folder = tmp_path_factory.mktemp("bad-inputs-world")
    built = folder / "built.db"
    url = f"sqlite:///{built}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    world = build_world(url)
    doing = world.assignment(1, "装财处", "lead")
    drive(world, doing, "in_progress")
    with world.session() as s:
        second = store_plan(s, load_plan(CORPUS / "plans" / "unknown_department.yaml"), Clock(dt.date(2021, 7, 20)))
    assert second.id == 2
    # Issued before the copy, so every copy holds the hashes (scrypt: only the users needed).
    tokens = {name: world.token(name) for name in {ADMIN, *(c.user for c in CASES if c.user)}
              if name in world.ids}
    template = folder / "template.db"
    src, dst = sqlite3.connect(built), sqlite3.connect(template)
    try:
        src.backup(dst)  # a consistent copy, WAL content included
    finally:
        src.close()
        dst.close()
    return Template(template, {"doing": str(doing), "unknown_dept_plan": str(second.id)}, tokens)


@pytest.fixture
def db(template, tmp_path) -> Path:
    folder = tmp_path / "db"
    folder.mkdir()
    path = folder / "duban.db"
    shutil.copy(template.path, path)
    template.register_copy(path)
    return path


@pytest.fixture
def work(tmp_path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def dump(path: Path) -> list[str]:
    con = sqlite3.connect(path)
    try:
        return list(con.iterdump())
    finally:
        con.close()


def folder_state(folder: Path) -> dict[str, str]:
    """Every file and directory under `folder` with a hash of its content."""
    state = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        state[rel] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return state


def assert_one_error(proc: subprocess.CompletedProcess, words=()) -> str:
    """stderr: warnings allowed before, then exactly one line “错误:…” naming the problem."""
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr[-3000:]
    assert "\x00" not in proc.stderr, "stderr carries a raw NUL byte"
    lines = [line for line in proc.stderr.splitlines() if line.strip() and not line.startswith("警告:")]
    assert len(lines) == 1, f"expected one error line, got:\n{proc.stderr[:3000]}"
    message = lines[0]
    assert message.startswith("错误："), message[:500]
    assert len(message) <= 2000, f"the message is {len(message)} characters long: {message[:200]}…"
    check_words(message, words)
    return message


def check_words(text: str, words) -> None:
    for word in words:
        options = word if isinstance(word, tuple) else (word,)
        assert any(w in text for w in options), f"none of {options} in: {text[:600]}"


# --------------------------------------------------------------------------- generated inputs


PLAN_TEXT = ("某局2021年政务公开工作要点分工方案\n"
             "序号|工作任务|具体要求|落实处室|完成时限\n"
             "1|一、财政信息公开|推进预算、决算公开。|装财处牵头,办公室配合。|11月底前\n"
             "2|二、政策解读|做好重大政策解读。|办公室牵头。|11月底前\n")
HEADER = ["序号", "工作任务", "具体要求", "落实处室", "完成时限"]
TITLE = "某局2021年政务公开工作要点分工方案"


def _docx_bytes() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph(TITLE)
    table = document.add_table(rows=2, cols=5)
    for j, text in enumerate(HEADER):
        table.cell(0, j).text = text
    for j, text in enumerate(["1", "一、财政信息公开", "推进预算、决算公开。", "装财处牵头。", "11月底前"]):
        table.cell(1, j).text = text
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _workbook(rows: list[list], merges: tuple[str, ...] = ()) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for ref in merges:
        sheet.merge_cells(ref)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _task_rows(n: int) -> list[list]:
    return [[i, "一、财政信息公开", f"推进第{i}项预算信息公开。", "装财处牵头", "11月底前"] for i in range(1, n + 1)]


def build_truncated_docx(path: Path) -> None:
    data = _docx_bytes()
    path.write_bytes(data[: len(data) // 2])


def build_truncated_xlsx(path: Path) -> None:
    data = _workbook([[TITLE], HEADER, *_task_rows(3)])
    path.write_bytes(data[: len(data) // 2])


def build_header_only_xlsx(path: Path) -> None:
    path.write_bytes(_workbook([[TITLE], HEADER], merges=("A1:E1",)))


def build_wide_xlsx(path: Path) -> None:
    """The five usual columns, then 9,995 more: 10,000 columns in all."""
    extra = [f"列{i}" for i in range(6, 10_001)]
    rows = [[TITLE], HEADER + extra, *[row + ["x"] * len(extra) for row in _task_rows(3)]]
    path.write_bytes(_workbook(rows))


def build_long_requirement_yaml(path: Path) -> None:
    path.write_text(f"title: {TITLE}\nyear: 2021\ntasks:\n  - seq: 1\n    requirement: {'公' * 100_000}\n"
                    "    responsibilities:\n      - {department: 装财处, role: lead}\n", encoding="utf-8")


def build_long_name_csv(path: Path) -> None:
    path.write_text(f"name,email\n{'长' * 10_000},long@sfj.example.gov.cn\n", encoding="utf-8")


BUILDERS = {
    "truncated.docx": build_truncated_docx,
    "truncated.xlsx": build_truncated_xlsx,
    "header_only.xlsx": build_header_only_xlsx,
    "wide_10000_columns.xlsx": build_wide_xlsx,
    "long_requirement.yaml": build_long_requirement_yaml,
    "long_name.csv": build_long_name_csv,
    "screenshot.png": lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64),
    "not_a_database.db": lambda p: p.write_bytes(b"name,email\nthis is a CSV, not an SQLite database\n"),
    "a_directory": lambda p: p.mkdir(),
    "resolve_dir": lambda p: p.mkdir(),
}


def setup_files(names: tuple[str, ...], work: Path) -> None:
    for name in names:
        if name in BUILDERS:
            BUILDERS[name](work / name)
            continue
        target = work / Path(name).name
        shutil.copy(CORPUS / name, target)
        target.chmod(0o644)  # readable by others, whatever the checkout's umask was


# --------------------------------------------------------------------------- the corpus


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    code: int
    words: tuple = ()  # each must appear in the message; a tuple inside means "one of these"
    files: tuple[str, ...] = ()  # copied from tests/bad_inputs/ (or built) into the working folder
    user: str | None = None


NUL = ("NUL", "空字符")
ENCODING = ("编码",)

CASES = [
    # ---- plan files: duban plan import FILE [--dry-run]
    Case("plan-empty-file", ("plan", "import", "empty.txt", "--dry-run"), 2, ("空文件",), ("plans/empty.txt",)),
    Case("plan-binary-garbage", ("plan", "import", "garbage.bin"), 2, ("不是可识别的文本",), ("plans/garbage.bin",)),
    Case("plan-big5", ("plan", "import", "big5.txt", "--dry-run"), 2, ENCODING, ("plans/big5.txt",)),
    Case("plan-shift-jis", ("plan", "import", "shift_jis.txt", "--dry-run"), 2, ENCODING, ("plans/shift_jis.txt",)),
    Case("plan-latin1-mojibake", ("plan", "import", "latin1_mojibake.txt", "--dry-run"), 2, ENCODING,
         ("plans/latin1_mojibake.txt",)),
    Case("plan-nul-byte-in-notice", ("plan", "import", "nul_in_notice.txt"), 2, (NUL,), ("plans/nul_in_notice.txt",)),
    Case("plan-truncated-docx", ("plan", "import", "truncated.docx", "--dry-run"), 2, ("损坏",), ("truncated.docx",)),
    Case("plan-truncated-xlsx", ("plan", "import", "truncated.xlsx"), 2, ("损坏",), ("truncated.xlsx",)),
    Case("plan-header-only-xlsx", ("plan", "import", "header_only.xlsx", "--dry-run"), 2, ("只有表头",),
         ("header_only.xlsx",)),
    Case("plan-xlsx-10000-columns", ("plan", "import", "wide_10000_columns.xlsx", "--dry-run"), 2,
         (("10000", "10,000", "10 000"),), ("wide_10000_columns.xlsx",)),
    Case("plan-yaml-seq-is-a-string", ("plan", "import", "seq_as_string.yaml", "--dry-run"), 2, ("seq",),
         ("plans/seq_as_string.yaml",)),
    Case("plan-yaml-due-2021-02-30", ("plan", "import", "due_feb30.yaml", "--dry-run"), 2, ("2021-02-30",),
         ("plans/due_feb30.yaml",)),
    Case("plan-yaml-unknown-role", ("plan", "import", "unknown_role.yaml"), 2, ("boss",),
         ("plans/unknown_role.yaml",)),
    Case("plan-yaml-negative-seq", ("plan", "import", "negative_seq.yaml", "--dry-run"), 2, ("-3",),
         ("plans/negative_seq.yaml",)),
    Case("plan-yaml-100000-char-requirement", ("plan", "import", "long_requirement.yaml"), 2, ("过长",),
         ("long_requirement.yaml",)),
    Case("plan-json-list-not-object", ("plan", "import", "list_not_object.json", "--dry-run"), 2,
         (("映射", "对象", "列表"),), ("plans/list_not_object.json",)),
    Case("plan-json-seq-beyond-64-bits", ("plan", "import", "huge_seq.json"), 2, ("seq",), ("plans/huge_seq.json",)),
    Case("plan-json-nul-in-requirement", ("plan", "import", "nul_in_requirement.json"), 2, (NUL,),
         ("plans/nul_in_requirement.json",)),
    # ---- issue 12: the formats offices attach, drafts and templates
    Case("plan-scanned-pdf", ("plan", "import", "scanned.pdf", "--dry-run"), 2, ("扫描件", "没有文字层"),
         ("plans/scanned.pdf",)),
    Case("plan-broken-pdf", ("plan", "import", "broken.pdf"), 2, ("损坏或不完整的 PDF",), ("plans/broken.pdf",)),
    Case("plan-ole2-powerpoint", ("plan", "import", "slides.ppt", "--dry-run"), 2, ("看不出是 Word 文档还是 Excel 工作簿", ".docx 或 .xlsx"),
         ("plans/slides.ppt",)),
    Case("plan-notice-without-table", ("plan", "import", "notice_without_table.txt", "--dry-run"), 2,
         ("表头", "duban plan template --out 分工方案模板.xlsx"), ("plans/notice_without_table.txt",)),
    Case("plan-draft-yaml-unedited", ("plan", "import", "draft_unedited.yaml"), 2, ("第 5 项任务没有落实处室", "见第 63 行"),
         ("plans/draft_unedited.yaml",)),
    Case("plan-blank-template", ("plan", "import", "template_blank.xlsx", "--dry-run"), 2, ("表头下没有任务", "第 10 行"),
         ("plans/template_blank.xlsx",)),
    Case("plan-draft-wrong-suffix", ("plan", "import", "draft_unedited.yaml", "--draft", "草稿.txt"), 2,
         ("扩展名应为 .xlsx 或 .yaml",), ("plans/draft_unedited.yaml",)),
    Case("plan-publish-unknown-department", ("plan", "publish", "{unknown_dept_plan}"), 1, ("不存在处",), user="李审核"),
    Case("plan-publish-resolve-is-a-directory", ("plan", "publish", "1", "--resolve", "resolve_dir"), 2,
         ("resolve_dir",), ("resolve_dir",), user="李审核"),
    Case("plan-publish-resolve-bad-date-key", ("plan", "publish", "1", "--resolve", "date_key.yaml"), 2,
         ("2021-02-30",), ("resolve/date_key.yaml",), user="李审核"),
    # ---- directory files: duban dept import FILE
    Case("dept-empty-csv", ("dept", "import", "empty.csv"), 2, ("空文件",), ("directories/empty.csv",)),
    Case("dept-no-name-column", ("dept", "import", "no_name_column.csv"), 2, ("name",),
         ("directories/no_name_column.csv",)),
    Case("dept-duplicate-names", ("dept", "import", "duplicate_names.csv"), 2, ("信息中心", "重复"),
         ("directories/duplicate_names.csv",)),
    Case("dept-email-not-an-address", ("dept", "import", "bad_email.csv"), 2, ("not-an-address",),
         ("directories/bad_email.csv",)),
    Case("dept-nul-byte", ("dept", "import", "nul_byte.csv"), 2, (NUL,), ("directories/nul_byte.csv",)),
    Case("dept-10000-char-name", ("dept", "import", "long_name.csv"), 2, ("100 字",), ("long_name.csv",)),
    Case("dept-big5", ("dept", "import", "big5.csv"), 2, ENCODING, ("directories/big5.csv",)),
    Case("dept-alias-is-another-department", ("dept", "import", "alias_taken.csv"), 1, ("装财处",),
         ("directories/alias_taken.csv",)),
    Case("dept-yaml-date-2021-02-30", ("dept", "import", "bad_date.yaml"), 2, ("2021-02-30",),
         ("directories/bad_date.yaml",)),
    Case("dept-zero-width-name", ("dept", "import", "zero_width_name.csv"), 2, ("U+200B",),
         ("directories/zero_width_name.csv",)),
    Case("dept-bidi-alias", ("dept", "import", "bidi_alias.csv"), 2, ("U+202E",), ("directories/bidi_alias.csv",)),
    Case("plan-title-zero-width", ("plan", "import", "title_zero_width.yaml"), 2, ("U+200B",),
         ("plans/title_zero_width.yaml",), user="李审核"),
    # ---- CLI arguments
    Case("user-add-zero-width", ("user", "add", "张伟\u200b", "--role", "supervisor", "--email", "zw@example.gov.cn"),
         2, ("U+200B",)),
    Case("dept-add-bidi", ("dept", "add", "\u202e处财装"), 2, ("U+202E",)),
    Case("delegate-other-department", ("delegate", "add", "--to", "孙科监", "--from", "2021-10-01",
                                       "--until", "2021-10-15"), 1, ("本处室",), user="张三"),
    Case("ledger-out-missing-folder", ("ledger", "--out", "nonexistent/x.xlsx"), 2, ("nonexistent", "不存在")),
    Case("audit-export-out-missing-folder", ("audit", "export", "--out", "nonexistent/e.jsonl"), 2,
         ("nonexistent", "不存在")),
    Case("plan-export-out-missing-folder", ("plan", "export", "1", "--out", "nonexistent/p.yaml"), 2,
         ("nonexistent", "不存在")),
    Case("id-zero", ("task", "show", "0"), 2, ("0",)),
    Case("id-negative", ("task", "show", "-1"), 2, ("-1",)),
    Case("id-beyond-64-bits", ("task", "history", "99999999999999999999"), 2, ("99999999999999999999",)),
    Case("id-not-a-number", ("review", "send-back", "abc", "--comment", "请补充"), 2, ("abc",), user="李审核"),
    Case("id-unknown", ("review", "approve", "99999999"), 1, ("99999999", "不存在"), user="李审核"),
    Case("plan-id-beyond-64-bits", ("plan", "show", "99999999999999999999"), 1, ("不存在",)),
    Case("until-2021-02-30-for-delegation", ("delegate", "add", "--to", "赵六", "--from", "2021-02-30",
                                             "--until", "2021-10-15"), 2, ("2021-02-30",), user="张三"),
    Case("until-2021-13-01", ("delay", "request", "{doing}", "--reason", "等待平台", "--until", "2021-13-01"), 2,
         ("2021-13-01",), user="张三"),
    Case("until-yesterday", ("delay", "request", "{doing}", "--reason", "等待平台", "--until", "yesterday"), 2,
         ("yesterday",), user="张三"),
    Case("today-0000-00-00", ("--today", "0000-00-00", "task", "list"), 2, ("0000-00-00",)),
    Case("huge-summary", ("task", "submit", "{doing}", "--summary", HUGE), 2, ("过长",), user="张三"),
    Case("huge-department-name", ("task", "list", "--dept", HUGE), 1, ("不存在",)),
    Case("huge-plan-name", ("plan", "show", HUGE), 1, ("不存在",)),
    # (An unknown user has no token: that is a login case, see tests of authentication.)
    Case("staff-publishes", ("plan", "publish", "{unknown_dept_plan}"), 1, ("张三",), user="张三"),
    Case("unknown-delegate", ("delegate", "add", "--to", "无名氏", "--from", "2021-10-01", "--until", "2021-10-15"),
         1, ("无名氏",), user="张三"),
    Case("unknown-department-ledger", ("ledger", "--dept", "不存在处"), 1, ("不存在处",)),
    Case("unknown-plan-ledger", ("ledger", "不存在的计划"), 1, ("不存在的计划",)),
    Case("ledger-quarter-2021Q9", ("ledger", "--quarter", "2021Q9"), 2, ("2021Q9",)),
    Case("ledger-format-pdf", ("ledger", "--format", "pdf"), 2, ("pdf",)),
    Case("attach-missing-file", ("task", "submit", "{doing}", "--summary", "已公开", "--attach", "不在了.png"),
         2, ("不在了.png", "不存在"), user="张三"),
    Case("attach-a-folder", ("task", "submit", "{doing}", "--summary", "已公开", "--attach", "."),
         2, ("是文件夹",), user="张三"),
    Case("attach-unreadable", ("task", "submit", "{doing}", "--summary", "已公开", "--attach", "/proc/self/mem"),
         2, ("读取附件", "未保存"), user="张三"),
    Case("fetch-attachment-none", ("task", "attachment", "{doing}"), 1, ("没有附件",), user="张三"),
    Case("refused-submit-with-attachment", ("task", "submit", "{doing}", "--summary", "已公开", "--attach",
                                            "screenshot.png"), 1, ("不存在",), ("screenshot.png",), user="孙科监"),
    Case("db-is-a-directory", ("--db", "a_directory", "task", "list"), 1, ("无法连接数据库",), ("a_directory",)),
    Case("db-is-not-a-database", ("--db", "not_a_database.db", "task", "list"), 1, ("无法连接数据库",),
         ("not_a_database.db",)),
    Case("db-postgresql-unreachable", ("--db", PG_NOBODY, "task", "list"), 1, ("无法连接数据库",)),
    Case("db-init-on-a-non-database", ("--db", "not_a_database.db", "db", "init"), 1, ("数据库",),
         ("not_a_database.db",)),
    Case("db-init-postgresql-unreachable", ("--db", PG_NOBODY, "db", "init"), 1, ("连接",)),
    Case("db-unsupported-scheme", ("--db", "mysql://nobody@127.0.0.1/x", "task", "list"), 2, ("mysql",)),
    Case("db-missing-file-read", ("--db", "missing/sub/duban.db", "task", "list"), 1, ("duban db init",)),
    # ---- config files: --config FILE
    Case("config-invalid-toml", ("--config", "invalid.toml", "remind", "run", "--dry-run"), 2, ("TOML",),
         ("configs/invalid.toml",)),
    Case("config-port-is-a-string", ("--config", "port_string.toml", "remind", "run", "--dry-run"), 2,
         ("mail.port", "abc"), ("configs/port_string.toml",)),
    Case("config-unknown-key-workers", ("--config", "workers_negative.toml", "remind", "run", "--dry-run"), 2,
         ("workers",), ("configs/workers_negative.toml",)),
    Case("config-connections-negative", ("--config", "connections_negative.toml", "remind", "run", "--dry-run"), 2,
         ("connections", "-3"), ("configs/connections_negative.toml",)),
    Case("config-unknown-backend", ("--config", "unknown_backend.toml", "remind", "run", "--dry-run"), 2,
         ("carrier-pigeon",), ("configs/unknown_backend.toml",)),
    Case("config-password-file-missing", ("--config", "password_file_missing.toml", "remind", "run", "--dry-run"), 2,
         ("password_file", "no-such-secret.txt"), ("configs/password_file_missing.toml",)),
    Case("config-missing-file", ("--config", "nowhere.toml", "remind", "run", "--dry-run"), 2, ("nowhere.toml",)),
    Case("config-is-a-directory", ("--config", "a_directory", "remind", "run", "--dry-run"), 2, ("a_directory",),
         ("a_directory",)),
    Case("config-invalid-toml-outbox-list", ("--config", "invalid.toml", "outbox", "list"), 2, ("TOML",),
         ("configs/invalid.toml",)),
    Case("config-missing-file-outbox-list", ("--config", "nowhere.toml", "outbox", "list"), 2, ("nowhere.toml",)),
    # Not a refusal: the command runs, and warns that the password file is readable by others.
    Case("config-inline-password-0644", ("--config", "inline_password.toml", "remind", "run", "--dry-run"), 0,
         ("警告", "chmod 600"), ("configs/inline_password.toml",)),
]


def test_corpus_is_big_enough():
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


@dataclass
class Outcome:
    proc: subprocess.CompletedProcess
    db_before: list[str]
    db_after: list[str]
    files_before: dict[str, str]
    files_after: dict[str, str]


def run_case(case: Case, template: Template, folder: Path) -> Outcome:
    """One case in a folder of its own: a copy of the database, the input files, the command."""
    (folder / "db").mkdir(parents=True)
    work = folder / "work"
    work.mkdir()
    db = folder / "db" / "duban.db"
    shutil.copy(template.path, db)
    template.register_copy(db)
    setup_files(case.files, work)
    args = [a.format(**template.ids) if "{" in a else a for a in case.args]
    db_before, files_before = dump(db), folder_state(work)
    proc = duban(*args, user=case.user, db=db, cwd=work)
    return Outcome(proc, db_before, dump(db), files_before, folder_state(work))


@pytest.fixture(scope="module")
def outcomes(request, template, tmp_path_factory) -> dict[str, Future]:
    """The selected cases, run side by side (each is a subprocess in its own folder): the
    corpus is dozens of interpreter start-ups, and one at a time they would take minutes."""
    selected = {item.callspec.params["case"].id for item in request.session.items
                if getattr(item, "originalname", "") == "test_bad_input" and hasattr(item, "callspec")}
    root = tmp_path_factory.mktemp("cases")
    workers = max(2, min(8, os.cpu_count() or 2))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return {case.id: pool.submit(run_case, case, template, root / case.id)
                for case in CASES if case.id in selected}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, outcomes: dict[str, Future]) -> None:
    outcome = outcomes[case.id].result()
    proc = outcome.proc
    assert proc.returncode == case.code, f"exit {proc.returncode}, stderr:\n{proc.stderr[:3000]}"
    if case.code:
        assert_one_error(proc, case.words)
    else:
        assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr[-3000:]
        check_words(proc.stderr, case.words)
    assert outcome.db_after == outcome.db_before, "the database changed"
    assert outcome.files_after == outcome.files_before, "files were created, changed or removed"


# --------------------------------------------------------------------------- big and odd files


# Run by the command through PYTHONPATH: any open() of a file named in NEVER_OPEN fails
# (an audit hook), so a command that opens such a file ends in an internal error.
_NEVER_OPEN_HOOK = """
import os, sys
_names = set(os.environ.get("NEVER_OPEN", "").split(os.pathsep)) - {""}
def _refuse(event, args):
    if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        if os.path.basename(os.fsdecode(args[0])) in _names:
            raise RuntimeError(f"opened {os.fsdecode(args[0])}")
sys.addaudithook(_refuse)
"""


def test_50_mb_files_are_refused_by_size_before_parsing(db: Path, work: Path, tmp_path: Path) -> None:
    """A real 50 MB notice (not a sparse file): refused by the 20 MB limit for plans and for
    directories alike, by the size the file system gives, without the file ever being
    opened (an audit hook in the command fails any open() of it), and the sentence names
    the file's size, which only its stat knows."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(_NEVER_OPEN_HOOK, encoding="utf-8")
    pythonpath = os.pathsep.join(filter(None, (str(hook), os.environ.get("PYTHONPATH"))))
    block = PLAN_TEXT.encode("utf-8")
    plan = work / "huge_plan.txt"
    with plan.open("wb") as handle:
        handle.write(block * (50 * 1024 * 1024 // len(block) + 1))
    directory = work / "huge_directory.csv"
    with directory.open("wb") as handle:
        handle.write(b"name,email\n" + "信息中心,xx@sfj.example.gov.cn\n".encode("utf-8") * 1_700_000)
    assert plan.stat().st_size > 50 * 1024 * 1024 and directory.stat().st_size > 50 * 1024 * 1024
    before_db, before_files = dump(db), folder_state(work)
    for args, path in ((("plan", "import", plan.name), plan), (("plan", "import", plan.name, "--dry-run"), plan),
                       (("dept", "import", directory.name), directory)):
        proc = duban(*args, db=db, cwd=work, env={"PYTHONPATH": pythonpath, "NEVER_OPEN": path.name})
        assert proc.returncode == 2, proc.stderr[:2000]
        size = f"{path.stat().st_size / 1024 / 1024:.1f} MB"
        assert_one_error(proc, (path.name, "过大", size, "20 MB"))
    assert dump(db) == before_db
    assert folder_state(work) == before_files


def test_deeply_merged_xlsx_is_read_correctly(db: Path, work: Path) -> None:
    """200 rows under a title merged across, the chapter, the departments and the deadline
    each merged down over all 200 rows: every task gets them."""
    rows = [[TITLE], HEADER, *_task_rows(200)]
    for row in rows[3:]:
        row[1] = row[3] = row[4] = None
    (work / "merged.xlsx").write_bytes(_workbook(rows, merges=("A1:E1", "B3:B202", "D3:D202", "E3:E202")))
    before = dump(db)
    proc = duban("plan", "import", "merged.xlsx", "--dry-run", "--json", db=db, cwd=work)
    assert proc.returncode == 0, proc.stderr[:3000]
    assert "Traceback" not in proc.stderr
    plan = json.loads(proc.stdout)
    assert plan["title"] == TITLE and len(plan["tasks"]) == 200
    assert {t["chapter"] for t in plan["tasks"]} == {"一、财政信息公开"}
    assert all(t["responsibilities"] == [{"department": "装财处", "role": "lead", "group": False}]
               for t in plan["tasks"])
    assert {t["due"] or plan["due"] for t in plan["tasks"]} == {"2021-11-30"}
    assert dump(db) == before


def test_xlsx_with_a_whole_column_merged_does_not_hang(db: Path, work: Path) -> None:
    """Selecting an empty column and merging it (ref G1:G1048576: a million cells) is a
    5 KB file. It must be read (the merge is empty and beside the table) or refused with a
    sentence about the merged range — in seconds, not by exhausting memory and time."""
    data = _workbook([[TITLE], HEADER, *_task_rows(3)])
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"</sheetData>", b'</sheetData><mergeCells count="1">'
                                          b'<mergeCell ref="G1:G1048576"/></mergeCells>')
            archive.writestr(item, content)
    (work / "whole_column.xlsx").write_bytes(out.getvalue())
    before = dump(db)
    try:
        proc = duban("plan", "import", "whole_column.xlsx", "--dry-run", "--json", db=db, cwd=work, timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail("plan import of a 5 KB .xlsx with one whole-column merge ran over 10 s")
    if proc.returncode == 0:
        assert len(json.loads(proc.stdout)["tasks"]) == 3
    else:
        assert proc.returncode == 2
        assert_one_error(proc, ("合并",))
    assert dump(db) == before


def test_docx_with_merged_cells_and_nested_tables(db: Path, work: Path) -> None:
    """A heading row merged across the table, the task/department/deadline cells merged down
    three rows, and a table nested (twice) inside a requirement cell. The three tasks are read
    with their merged values; the nested table is not taken for tasks, and since its text
    (a department "科监处牵头") ends up folded into a requirement, the user is warned."""
    import docx

    document = docx.Document()
    document.add_paragraph(TITLE)
    table = document.add_table(rows=5, cols=5)
    for j, text in enumerate(HEADER):
        table.cell(0, j).text = text
    table.cell(1, 0).merge(table.cell(1, 4)).text = "一、紧扣“十四五”开好局起好步深化政务公开"
    for k, r in enumerate((2, 3, 4), 1):
        table.cell(r, 0).text = str(k)
        table.cell(r, 2).text = f"推进第{k}项预算信息公开。"
    table.cell(2, 1).merge(table.cell(4, 1)).text = "做好财政信息公开"
    table.cell(2, 3).merge(table.cell(4, 3)).text = "装财处牵头,办公室配合。"
    table.cell(2, 4).merge(table.cell(4, 4)).text = "11月底前"
    inner = table.cell(3, 2).add_table(rows=2, cols=2)
    for (r, c), text in {(0, 0): "序号", (0, 1): "落实处室", (1, 0): "9", (1, 1): "科监处牵头"}.items():
        inner.cell(r, c).text = text
    deeper = inner.cell(1, 1).add_table(rows=1, cols=2)
    deeper.cell(0, 0).text, deeper.cell(0, 1).text = "更深一层", "法律援助处配合"
    document.save(work / "nested.docx")
    before = dump(db)
    proc = duban("plan", "import", "nested.docx", "--dry-run", "--json", db=db, cwd=work)
    assert proc.returncode == 0, proc.stderr[:3000]
    assert "Traceback" not in proc.stderr
    plan = json.loads(proc.stdout)
    assert [t["seq"] for t in plan["tasks"]] == [1, 2, 3]
    for task in plan["tasks"]:
        assert task["chapter"] == "一、紧扣“十四五”开好局起好步深化政务公开"
        assert task["section"] == "做好财政信息公开"
        assert task["responsibilities"] == [{"department": "装财处", "role": "lead", "group": False},
                                            {"department": "办公室", "role": "cooperate", "group": False}]
    assert plan["due"] == "2021-11-30"
    check_words(proc.stderr, [("嵌套", "内嵌", "表中表")])
    assert dump(db) == before


def test_docx_zip_bomb_is_refused(db: Path, work: Path) -> None:
    """A 100 KB .docx whose document.xml inflates to 100 MB passes the 20 MB file limit; the
    limit must apply to what is unpacked too, with a sentence saying so (not "damaged")."""
    source = zipfile.ZipFile(io.BytesIO(_docx_bytes()))
    with zipfile.ZipFile(work / "bomb.docx", "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename != "word/document.xml":
                archive.writestr(item.filename, content)
                continue
            head, tail = content.split(b"<w:body>", 1)
            with archive.open(item.filename, "w", force_zip64=True) as handle:
                handle.write(head + b"<w:body>")
                spaces = b" " * (1 << 20)
                for _ in range(100):
                    handle.write(spaces)
                handle.write(tail)
    assert (work / "bomb.docx").stat().st_size < 1024 * 1024
    before = dump(db)
    try:
        proc = duban("plan", "import", "bomb.docx", "--dry-run", db=db, cwd=work, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("plan import of a zip bomb ran over 30 s")
    assert proc.returncode == 2, proc.stderr[:2000]
    assert_one_error(proc, [("过大", "解压")])
    assert dump(db) == before


def test_unknown_department_imported_then_publish_refused(db: Path, work: Path) -> None:
    """Through the CLI: the import warns about the unknown department and stores the plan;
    publishing it is refused, names the department, and creates nothing."""
    text = (CORPUS / "plans" / "unknown_department.yaml").read_text(encoding="utf-8")
    (work / "plan.yaml").write_text(text.replace("另一局", "第三局"), encoding="utf-8")
    proc = duban("plan", "import", "plan.yaml", db=db, cwd=work)
    assert proc.returncode == 0, proc.stderr
    assert "不存在处" in proc.stderr and "警告" in proc.stderr
    plan_id = next(line for line in proc.stdout.splitlines() if line.startswith("已导入计划"))
    plan_id = plan_id.removeprefix("已导入计划").split("：")[0].strip()
    before = dump(db)
    proc = duban("plan", "publish", plan_id, user="李审核", db=db, cwd=work)
    assert proc.returncode == 1, proc.stderr
    assert_one_error(proc, ("不存在处", "未创建"))
    assert dump(db) == before


def test_argv_limits_that_make_some_cases_impossible(work: Path) -> None:
    """Why there is no NUL --comment and no 1 MB --summary above: the OS refuses both before
    duban runs (so the corpus carries NULs in files, and 129,000-byte arguments)."""
    with pytest.raises(ValueError, match="null"):
        duban("review", "send-back", "1", "--comment", "请\x00补充", user="李审核", cwd=work)
    with pytest.raises(OSError):
        duban("task", "submit", "1", "--summary", "公" * 350_000, user="张三", cwd=work)
    assert not os.listdir(work)
