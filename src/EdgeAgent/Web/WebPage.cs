using EdgeMeter.Crypto.Hashing;
using System.Text;

namespace EdgeMeter.Agent.Web;

/// <summary>
/// The one page the gateway serves: self-contained (no external assets), mobile-first, in English and Simplified
/// Chinese. Pairing signs the owner in; the owner sees the dashboard (live power per source with the grid's
/// direction, clean share, confirmed balance beside the month's provisional tokens and factors, sync backlog, last
/// receipt, time status, meter health, a picture of the LCD) and the setup (meters with a test read, uplink, time
/// zone, the public summary switch). Inline style and script are allowed by their SHA-256 hashes in the
/// Content-Security-Policy, so nothing else (injected markup, a label containing script) can run. The language comes
/// from Accept-Language (the server sets <c>&lt;html lang&gt;</c>) and a switch on the page; every string of both
/// languages is in the script's table.
/// </summary>
internal static class WebPage
{
    private const string Style = """
:root{color-scheme:light dark;--bg:#f4f6f8;--card:#fff;--ink:#17202a;--mute:#5d6d7e;--line:#dfe4ea;--ok:#1e8449;--bad:#c0392b;--warn:#b9770e;--acc:#1f618d}
@media (prefers-color-scheme:dark){:root{--bg:#11161c;--card:#1b232c;--ink:#e8edf2;--mute:#9aa8b6;--line:#2c3844;--acc:#5dade2}}
*{box-sizing:border-box}
[hidden]{display:none!important}
body{margin:0;font:16px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans CJK SC","PingFang SC",sans-serif;background:var(--bg);color:var(--ink)}
header{display:flex;align-items:center;gap:8px;flex-wrap:wrap;justify-content:space-between;padding:10px 16px;background:var(--acc);color:#fff}
header .right{display:flex;gap:6px;align-items:center}
h1{font-size:1.15rem;margin:0}
h2{font-size:1rem;margin:0 0 8px;color:var(--mute);letter-spacing:.04em}
h3{font-size:.95rem;margin:14px 0 6px}
main{padding:12px;display:grid;gap:12px;max-width:1100px;margin:0 auto;grid-template-columns:1fr}
@media (min-width:900px){main{grid-template-columns:1fr 1fr}.wide{grid-column:1 / -1}}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:14px 16px;min-width:0}
.badge{font-size:.8rem;padding:3px 10px;border-radius:99px;background:rgba(255,255,255,.2);white-space:nowrap}
.badge.ok{background:var(--ok)}.badge.bad{background:var(--bad)}
.amount{font-size:2rem;font-weight:700;font-variant-numeric:tabular-nums}
.sub{color:var(--mute);font-size:.85rem}
.tag{display:inline-block;font-size:.7rem;font-weight:700;padding:1px 7px;border-radius:4px;vertical-align:middle;margin-left:6px;color:#fff}
.tag.conf{background:var(--ok)}.tag.prov{background:var(--warn)}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:12px}
dl{display:grid;grid-template-columns:auto 1fr;gap:4px 12px;margin:8px 0 0}
dt{color:var(--mute)}dd{margin:0;text-align:right;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
ul{list-style:none;margin:0;padding:0}
li{display:flex;justify-content:space-between;align-items:baseline;padding:8px 0;border-top:1px solid var(--line);gap:8px}
li:first-child{border-top:0}
.kw{font-size:1.3rem;font-weight:600;font-variant-numeric:tabular-nums;white-space:nowrap}
.off,.bad{color:var(--bad)}.good{color:var(--ok)}
.addr,.id{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem;overflow-wrap:anywhere}
table{width:100%;border-collapse:collapse;font-size:.85rem}
th,td{text-align:left;padding:4px 6px;border-top:1px solid var(--line);font-variant-numeric:tabular-nums}
th{color:var(--mute);font-weight:500}
label{display:block;margin:10px 0 4px;font-size:.9rem;color:var(--mute)}
input,select{width:100%;font:inherit;padding:9px;border:1px solid var(--line);border-radius:8px;background:var(--bg);color:var(--ink)}
input[type=checkbox]{width:auto;margin-right:8px}
input#code{font-size:1.5rem;letter-spacing:.3em;text-align:center;font-variant-numeric:tabular-nums}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:0 12px}
button{margin-top:12px;font:inherit;font-weight:600;padding:10px 14px;border:0;border-radius:8px;background:var(--acc);color:#fff;cursor:pointer}
button.full{width:100%}
button.ghost{background:none;color:var(--acc);border:1px solid var(--acc)}
header button{margin:0;padding:4px 10px;font-size:.8rem;background:rgba(255,255,255,.2)}
header button[aria-pressed=true]{background:#fff;color:var(--acc)}
.msg{margin:8px 0 0;min-height:1.2em}.msg.bad{color:var(--bad)}.msg.ok{color:var(--ok)}
canvas{width:100%;max-width:420px;height:auto;border-radius:6px;display:block}
.grid{display:grid;gap:12px;grid-template-columns:1fr;min-width:0}
@media (min-width:900px){.grid{grid-template-columns:1fr 1fr}}
.mt{margin-top:16px}.scroll{overflow-x:auto}
footer{text-align:center;color:var(--mute);font-size:.8rem;padding:8px 16px 24px}
footer.bad{color:var(--bad)}
""";

    private const string Script = """
"use strict";
const T = {
en: {
  title: "EdgeMeter gateway", "lang-en": "English", "lang-zh": "中文", logout: "Log out",
  "h-pair": "Pairing", "h-power": "Live power", "h-tokens": "Tokens", "h-sync": "Sync and time", "h-health": "Meter health",
  "h-lcd": "Gateway display", "h-setup": "Setup", "h-meters": "Meters", "h-new-meter": "Add or change a meter", "h-uplink": "Uplink",
  "h-tz": "Time zone", "h-public": "Visitors",
  "not-paired": "Not paired", "paired-with": "Paired with {0}", "operator-account": "operator account",
  "paired-visitor": "This gateway is paired. The owner signs in by pairing again with a new code.",
  "enter-code": "Enter the 6-digit code shown on the gateway display.", "locked": "Too many wrong codes. Try again after {0}.",
  "press-button": "Press the button on the gateway to show a new code.", "code-shown": "A new code is shown on the gateway display.",
  "request-code": "Request a pairing code", "pair-again": "Pair with another account",
  "l-code": "Pairing code", "l-operator": "Operator account address", "l-label": "Label (optional)", "ph-label": "e.g. Sunny Street community",
  pair: "Pair", pairing: "Pairing\u2026", paired: "Paired. You are signed in as the owner.", "pair-failed": "Pairing failed.",
  "wrong-code": "Wrong code. Attempts left: {0}.", "no-code": "No pairing code is active. Request a new one.",
  "bad-operator": "The operator address must be 0x followed by 40 hex digits.",
  "op": "Operator", "paired-at": "Paired at",
  "grid-import": "Grid: importing", "grid-export": "Grid: exporting", "grid-idle": "Grid: balanced",
  "clean-share": "Clean share this month", "clean-now": "Clean share now",
  confirmed: "Confirmed balance", "confirmed-tag": "CONFIRMED", "confirmed-sub": "Confirmed by the chain (ledger).",
  provisional: "This month, provisional", "estimate-tag": "ESTIMATE", "estimate-sub": "Computed on this gateway, not yet confirmed by the chain.",
  "month": "Month {0}", "no-month": "Not enough data yet this month",
  "f-demand": "Demand factor", "f-supply": "Supply factor", "f-cong": "Congestion factor", "t-carbon": "Carbon tokens", "t-cong": "Congestion tokens",
  "tokens-unit": "tokens",
  "uplink-up": "Uplink connected", "uplink-down": "Uplink down", backlog: "Waiting to send", "last-receipt": "Last receipt",
  "time-status": "Clock", device: "Device address", version: "Version", readings: "Readings", "stored": "Stored", "confirmed-n": "Confirmed by ledger",
  synchronised: "synchronised (NTP)", informative: "informative", relative: "relative (clock jumped)", unsynchronised: "not synchronised",
  online: "online", offline: "offline", "last-read": "last reading {0}", requests: "requests", timeouts: "timeouts", errors: "errors",
  latency: "mean latency", breaker: "breaker", closed: "closed", open: "open", "half-open": "half-open", "no-meters": "No meters configured",
  none: "none", "l-state": "State", "l-last-reading": "Last reading",
  "l-id": "Meter id", "l-protocol": "Protocol", "l-conn": "Connection", "conn-tcp": "Modbus TCP", "conn-rtutcp": "RTU over TCP", "conn-serial": "Serial port (RS-485)",
  "l-host": "Host", "l-port": "Port", "l-serial": "Serial port", "l-baud": "Baud rate", "l-parity": "Parity", "l-stop": "Stop bits",
  "parity-N": "none", "parity-E": "even", "parity-O": "odd",
  "l-unit": "Unit id", "l-map": "Register map", "l-source": "Energy source", "l-timeout": "Timeout (ms)",
  "l-transport": "Transport", "tr-wrapper": "TCP wrapper", "tr-hdlc": "HDLC", "l-client": "Client address", "l-server": "Server address",
  "l-auth": "Authentication", "auth-none": "none", "auth-low": "low (password)", "auth-hls-gmac": "high (GMAC)", "l-password": "Password",
  "l-block-key": "Block cipher key (hex)", "l-auth-key": "Authentication key (hex)", "l-system-title": "System title (hex)", "l-obis": "OBIS registers to record (energy in, energy out, power, voltage, current, frequency)",
  "test-read": "Test read", "save-meter": "Save meter", remove: "Remove", reading: "Reading\u2026", "read-ok": "Live values from the meter:",
  saved: "Saved and applied.", "no-ports": "No serial ports found",
  "l-broker": "Broker URL", "l-user": "User name", "l-mqtt-password": "Password (leave empty to keep)", "l-mqtt-protocol": "MQTT version",
  "test-connection": "Test connection", "save-uplink": "Save uplink", connecting: "Connecting\u2026", "connected-with": "Connected ({0}).",
  "l-ca": "CA certificate (PEM)", "l-cert": "Client certificate (PEM)", "l-key": "Client key (PEM)", upload: "Upload", uploaded: "Stored.",
  "has-password": "A password is stored.", "has-ca": "A CA certificate is stored.", "has-cert": "A client certificate is stored.",
  "l-tz": "Time zone for times on this page", "tz-gateway": "the gateway's own", "save-tz": "Save time zone",
  "l-public": "Show a read-only summary (power, clean share, balance) to visitors without signing in", "save-public": "Save",
  "summary-note": "Read-only summary. Pair to sign in as the owner.",
  "updated": "Updated {0}", unreachable: "Gateway not reachable, retrying\u2026", "error": "Error: {0}",
  gridImport: "Grid import", gridExport: "Grid export", pv: "PV", battery: "Battery", wind: "Wind", chp: "CHP", heat: "Heat", other: "Other",
  GridImport: "Grid import", GridExport: "Grid export", Pv: "PV", Battery: "Battery", Wind: "Wind", Chp: "CHP", Heat: "Heat", Other: "Other",
  q_active_power: "Active power", q_active_power_l1: "Active power L1", q_active_power_l2: "Active power L2", q_active_power_l3: "Active power L3",
  q_current_l1: "Current L1", q_current_l2: "Current L2", q_current_l3: "Current L3", q_voltage_l1: "Voltage L1", q_voltage_l2: "Voltage L2",
  q_voltage_l3: "Voltage L3", q_frequency: "Frequency", q_power_factor: "Power factor", q_import_active_energy: "Energy imported",
  q_export_active_energy: "Energy exported", q_total_active_energy: "Energy total", quantity: "Quantity", value: "Value",
  k_id: "meter id", k_unit: "unit id", k_map: "register map", k_endpoint: "connection", k_timeoutMs: "timeout", k_broker: "broker URL",
  k_protocol: "protocol", k_timeZone: "time zone",
},
zh: {
  title: "EdgeMeter 网关", "lang-en": "English", "lang-zh": "中文", logout: "退出登录",
  "h-pair": "配对", "h-power": "实时功率", "h-tokens": "代币", "h-sync": "同步与时间", "h-health": "电表状态",
  "h-lcd": "网关显示屏", "h-setup": "设置", "h-meters": "电表", "h-new-meter": "添加或修改电表", "h-uplink": "上行连接",
  "h-tz": "时区", "h-public": "访客",
  "not-paired": "未配对", "paired-with": "已与 {0} 配对", "operator-account": "运营方账户",
  "paired-visitor": "此网关已配对。业主需用新的配对码重新配对以登录。",
  "enter-code": "请输入网关显示屏上的 6 位配对码。", "locked": "错误次数过多。请在 {0} 之后重试。",
  "press-button": "请按下网关上的按键以显示新的配对码。", "code-shown": "新的配对码已显示在网关显示屏上。",
  "request-code": "申请配对码", "pair-again": "与其他账户配对",
  "l-code": "配对码", "l-operator": "运营方账户地址", "l-label": "备注（可选）", "ph-label": "例如：阳光街社区",
  pair: "配对", pairing: "正在配对\u2026", paired: "配对成功，您已作为业主登录。", "pair-failed": "配对失败。",
  "wrong-code": "配对码错误。剩余尝试次数：{0}。", "no-code": "当前没有有效的配对码，请重新申请。",
  "bad-operator": "运营方地址必须是 0x 加 40 位十六进制数字。",
  "op": "运营方", "paired-at": "配对时间",
  "grid-import": "电网：购电中", "grid-export": "电网：售电中", "grid-idle": "电网：平衡",
  "clean-share": "本月清洁能源占比", "clean-now": "当前清洁能源占比",
  confirmed: "已确认余额", "confirmed-tag": "已确认", "confirmed-sub": "已由链上账本确认。",
  provisional: "本月预估", "estimate-tag": "预估", "estimate-sub": "由本网关计算，尚未经链上确认。",
  "month": "{0} 月份", "no-month": "本月数据尚不足",
  "f-demand": "需求系数", "f-supply": "供给系数", "f-cong": "拥堵系数", "t-carbon": "碳代币", "t-cong": "拥堵代币",
  "tokens-unit": "代币",
  "uplink-up": "上行已连接", "uplink-down": "上行已断开", backlog: "待发送", "last-receipt": "最近回执",
  "time-status": "时钟", device: "设备地址", version: "版本", readings: "读数", "stored": "已存储", "confirmed-n": "账本已确认",
  synchronised: "已同步（网络校时）", informative: "仅供参考", relative: "相对时间（时钟跳变）", unsynchronised: "未同步",
  online: "在线", offline: "离线", "last-read": "最近读数 {0}", requests: "请求", timeouts: "超时", errors: "错误",
  latency: "平均延迟", breaker: "断路器", closed: "闭合", open: "断开", "half-open": "半开", "no-meters": "尚未配置电表",
  none: "无", "l-state": "状态", "l-last-reading": "最近读数",
  "l-id": "电表编号", "l-protocol": "协议", "l-conn": "连接方式", "conn-tcp": "Modbus TCP", "conn-rtutcp": "基于 TCP 的 RTU", "conn-serial": "串口（RS-485）",
  "l-host": "主机", "l-port": "端口", "l-serial": "串口", "l-baud": "波特率", "l-parity": "校验位", "l-stop": "停止位",
  "parity-N": "无", "parity-E": "偶校验", "parity-O": "奇校验",
  "l-unit": "从站地址", "l-map": "寄存器映射", "l-source": "能源类型", "l-timeout": "超时（ms）",
  "l-transport": "传输方式", "tr-wrapper": "TCP 封装", "tr-hdlc": "HDLC", "l-client": "客户端地址", "l-server": "服务器地址",
  "l-auth": "认证方式", "auth-none": "无", "auth-low": "低级（密码）", "auth-hls-gmac": "高级（GMAC）", "l-password": "密码",
  "l-block-key": "分组加密密钥（十六进制）", "l-auth-key": "认证密钥（十六进制）", "l-system-title": "系统标题（十六进制）", "l-obis": "要记录的 OBIS 寄存器（正向电能、反向电能、功率、电压、电流、频率）",
  "test-read": "试读", "save-meter": "保存电表", remove: "删除", reading: "正在读取\u2026", "read-ok": "电表实时数值：",
  saved: "已保存并生效。", "no-ports": "未找到串口",
  "l-broker": "服务器地址", "l-user": "用户名", "l-mqtt-password": "密码（留空则保持不变）", "l-mqtt-protocol": "MQTT 版本",
  "test-connection": "测试连接", "save-uplink": "保存上行设置", connecting: "正在连接\u2026", "connected-with": "连接成功（{0}）。",
  "l-ca": "CA 证书（PEM）", "l-cert": "客户端证书（PEM）", "l-key": "客户端私钥（PEM）", upload: "上传", uploaded: "已保存。",
  "has-password": "已保存密码。", "has-ca": "已保存 CA 证书。", "has-cert": "已保存客户端证书。",
  "l-tz": "本页面显示时间所用的时区", "tz-gateway": "网关本地时区", "save-tz": "保存时区",
  "l-public": "允许访客无需登录查看只读概览（功率、清洁能源占比、余额）", "save-public": "保存",
  "summary-note": "只读概览。配对后可作为业主登录。",
  "updated": "更新于 {0}", unreachable: "无法连接网关，正在重试\u2026", "error": "错误：{0}",
  gridImport: "电网购电", gridExport: "电网售电", pv: "光伏", battery: "储能电池", wind: "风电", chp: "热电联产", heat: "热能", other: "其他",
  GridImport: "电网购电", GridExport: "电网售电", Pv: "光伏", Battery: "储能电池", Wind: "风电", Chp: "热电联产", Heat: "热能", Other: "其他",
  q_active_power: "有功功率", q_active_power_l1: "L1 有功功率", q_active_power_l2: "L2 有功功率", q_active_power_l3: "L3 有功功率",
  q_current_l1: "L1 电流", q_current_l2: "L2 电流", q_current_l3: "L3 电流", q_voltage_l1: "L1 电压", q_voltage_l2: "L2 电压",
  q_voltage_l3: "L3 电压", q_frequency: "频率", q_power_factor: "功率因数", q_import_active_energy: "正向有功电能",
  q_export_active_energy: "反向有功电能", q_total_active_energy: "总有功电能", quantity: "测量项", value: "数值",
  k_id: "电表编号", k_unit: "从站地址", k_map: "寄存器映射", k_endpoint: "连接方式", k_timeoutMs: "超时", k_broker: "服务器地址",
  k_protocol: "协议", k_timeZone: "时区",
  k_source: "能源类型", k_transport: "传输方式", k_client: "客户端地址", k_server: "服务器地址", k_auth: "认证方式", k_authentication: "认证方式",
  k_password: "密码", k_blockKey: "分组加密密钥", k_blockCipherKey: "分组加密密钥", k_authKey: "认证密钥", k_authenticationKey: "认证密钥",
  k_systemTitle: "系统标题", k_obis: "OBIS 代码", k_physicalAddress: "物理地址", k_meters: "电表", k_configuration: "配置文件",
  k_username: "用户名", k_caFile: "CA 证书", k_certFile: "客户端证书", k_keyFile: "客户端私钥", k_kind: "文件类型", k_publicSummary: "访客概览",
  "e-range": "{key}：应在 {min} 到 {max} 之间（当前为 {got}）。", "e-hex": "{key}：应为 {digits} 位十六进制数字。", "e-required": "{key}：必须填写。",
  "e-id_format": "{key}：只能使用 1 到 64 个字母、数字或 . _ - 字符（当前为 {got}）。", "e-duplicate_id": "{key}：电表编号 {got} 已存在。",
  "e-meter_required": "至少需要配置一个电表。", "e-url_format": "{key}：应为以 {a} 或 {b} 开头、带主机名和端口的地址（当前为 {got}）。",
  "e-obis_not_recorded": "{key}：{got} 不是本网关记录的寄存器。", "e-obis_twice": "{key}：{got} 与另一寄存器对应同一测量项。",
  "e-obis_invalid": "{key}：{got} 不是有效的 OBIS 代码。", "e-one_of": "{key}：取值无效（当前为 {got}）。",
  "e-unknown_time_zone": "{key}：未知时区 {got}。", "e-file_not_found": "{key}：找不到文件 {got}。", "e-cert_and_key": "{key}：双向 TLS 需要同时提供客户端证书和私钥。",
  "e-not_pem": "{key}：不是 PEM 文件。", "e-pem_kind": "{key}：文件类型不对（收到的是 {got}）。", "e-pem_unreadable": "{key}：证书无法读取。",
  "e-pem_pair": "{key}：客户端证书与私钥不匹配。", "e-file_io": "{key}：无法读写文件。", "e-endpoint": "{key}：连接地址无效。", "e-map": "{key}：寄存器映射无效。",
  "e-invalid": "{key}：取值无效。",
  "e-no_answer": "{endpoint}：无应答。", "e-refused": "{endpoint}：连接被拒绝。", "e-unreachable": "{endpoint}：无法连接。",
  "e-modbus_exception": "{endpoint}：电表返回 Modbus 异常码 {code}。", "e-bad_answer": "{endpoint}：电表的应答无法解析。",
  "e-dlms_refused": "{endpoint}：电表拒绝建立连接。请检查客户端地址、认证方式以及密码或密钥。", "e-dlms_denied": "{endpoint}：电表拒绝读取该寄存器。",
  "e-dlms_error": "{endpoint}：DLMS 通信出错。", "e-no_access": "{endpoint}：无权访问该端口。", "e-read_failed": "{endpoint}：读取失败。",
  "e-mqtt_credentials": "{endpoint}：服务器拒绝连接：用户名或密码错误。", "e-mqtt_refused": "{endpoint}：服务器拒绝连接。",
  "e-tls": "{endpoint}：TLS 握手失败（证书不受信任或不匹配）。", "e-failed": "操作失败。",
  "r-host_not_allowed": "此网关不响应该主机名。", "r-login_required": "请先与网关配对。", "r-method_not_allowed": "不支持该请求方法。",
  "r-not_found": "未找到。", "r-internal": "网关内部错误。", "r-bad_json": "请求格式错误。", "r-invalid_label": "备注无效（最多 64 个字符）。",
  "r-csrf": "会话校验失败，请刷新页面。", "r-cross_origin": "不接受跨站请求。", "r-content_type": "请求格式错误。", "r-too_large": "上传的内容过大。",
  "r-no_setup": "此网关没有可修改的配置文件。", "r-bad_meter": "电表需要编号、协议、连接地址、从站地址、寄存器映射和能源类型。",
  "r-presence_required": "请按下网关上的按键以显示新的配对码。", "r-locked": "错误次数过多，配对已暂时锁定。", "r-no_code": "当前没有有效的配对码，请重新申请。",
  "r-wrong_code": "配对码错误。", "r-invalid_operator": "运营方地址必须是 0x 加 40 位十六进制数字。",
},
};
const SOURCES = ["GridImport", "GridExport", "Pv", "Battery", "Wind", "Chp", "Heat", "Other"];
const $ = (id) => document.getElementById(id);
let lang = (localStorage.getItem("lang") || document.documentElement.lang || "en").startsWith("zh") ? "zh" : "en";
let csrf = null, owner = false, lastStatus = null, lastPair = null, lastRead = null, lastUpdated = null, timeZone = undefined, lcdPage = 0;
const t = (key, ...args) => { let s = (T[lang][key] ?? T.en[key] ?? key); args.forEach((a, i) => { s = s.replace("{" + i + "}", a); }); return s; };
const locale = () => lang === "zh" ? "zh-CN" : "en-US";
const nf = (v, max) => Number(v).toLocaleString(locale(), { maximumFractionDigits: max });
const dash = "\u2014";
const kw = (w) => w == null ? dash : nf(Math.abs(w) / 1000, 2) + " kW";
const kwh = (v) => v == null ? dash : nf(v, 1) + " kWh";
const tok = (v) => v == null ? dash : nf(v, 2) + " " + t("tokens-unit");
const fac = (v) => v == null ? dash : Number(v).toFixed(2);
const when = (at) => at ? new Date(at).toLocaleString(locale(), { timeZone }) : dash;
const qname = (q) => T[lang]["q_" + q] ?? q;

function text(id, value) { const e = $(id); if (e && e.textContent !== value) e.textContent = value; }
function show(id, on) { const e = $(id); if (e) e.hidden = !on; }

function translate() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = t("title");
  for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = t(e.dataset.i18n);
  for (const e of document.querySelectorAll("[data-i18n-ph]")) e.placeholder = t(e.dataset.i18nPh);
  $("lang-en").setAttribute("aria-pressed", String(lang === "en"));
  $("lang-zh").setAttribute("aria-pressed", String(lang === "zh"));
  fillSources();
  // Messages are transient; one in the old language would stay behind.
  for (const e of document.querySelectorAll(".msg")) { e.textContent = ""; e.className = "msg"; }
  if (owner) loadSetup();
  if (lastRead) showRead(lastRead);
  if (lastUpdated) text("updated", t("updated", lastUpdated.toLocaleTimeString(locale(), { timeZone })));
  if (lastStatus) render(lastStatus);
  if (lastPair) renderPairing(lastPair);
}

function setLang(l) { lang = l; localStorage.setItem("lang", l); translate(); }

function fillSources() {
  const sel = $("m-source"), keep = sel.value;
  sel.replaceChildren(...SOURCES.map((s) => new Option(t(s), s)));
  if (keep) sel.value = keep;
}

async function api(method, path, body) {
  const headers = {};
  if (method !== "GET") { headers["Content-Type"] = "application/json"; if (csrf) headers["X-CSRF-Token"] = csrf; }
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store", credentials: "same-origin" });
  let j = {}; try { j = await r.json(); } catch (e) { }
  if (r.status === 401 && owner) { owner = false; csrf = null; layout(); }
  return { ok: r.ok, status: r.status, j };
}

function msg(id, cls, value) { const e = $(id); e.className = "msg " + cls; if (typeof value === "string") e.textContent = value; else e.replaceChildren(...value); }

// A server refusal in the reader's language. English shows the server's own line; Chinese builds the message from
// its stable code (validation rule, test-read failure, pairing refusal) with the key, endpoint and values it names
// set apart as addresses.
function errorText(j) {
  const e = j.errors && j.errors.length ? j.errors[0] : j.code ? { code: j.code, args: j.args || {}, key: (j.args || {}).key } : null;
  if (lang === "en") {
    if (j.errors && j.errors.length) { const k = e.key.replace(/^.*\./, "").replace(/\[.*\]/, ""); return t("error", (T.en["k_" + k] ?? e.key) + ": " + e.reason); }
    return t("error", j.error || "?");
  }
  let template, args = {};
  if (e) { template = T[lang]["e-" + e.code] ?? T[lang]["e-invalid"]; args = { ...e.args }; if (e.key) args.key = e.key; }
  else template = T[lang]["r-" + j.result] ?? T[lang]["e-failed"];
  const nodes = [];
  for (const part of template.split(/(\{[a-z]+\})/)) {
    const name = /^\{([a-z]+)\}$/.exec(part);
    if (!name) { if (part) nodes.push(part); continue; }
    let v = args[name[1]] ?? "";
    if (name[1] === "key") { const k = v.replace(/^.*\./, "").replace(/\[.*\]/, ""); if (T[lang]["k_" + k]) { nodes.push(T[lang]["k_" + k]); continue; } }
    const span = document.createElement("span"); span.className = "addr"; span.textContent = v; nodes.push(span);
  }
  return [t("error", ""), ...nodes];
}

function layout() {
  show("owner-area", owner);
  show("logout", owner);
  show("dashboard", owner || (lastStatus && lastStatus.owner === false));
  show("summary-note", !owner && lastStatus && lastStatus.owner === false);
}

function render(s) {
  lastStatus = s;
  timeZone = s.timeZone || undefined;
  const meters = s.meters || [];
  const bySource = {};
  for (const m of meters) {
    const b = bySource[m.source] ||= { w: 0, kwh: 0, any: false };
    if (m.activePowerW != null) { b.w += Number(m.activePowerW); b.any = true; }
    if (m.energyKwh != null) b.kwh += Number(m.energyKwh);
  }
  const list = $("sources");
  list.replaceChildren();
  if (meters.length === 0) { const li = document.createElement("li"); li.textContent = t("no-meters"); list.append(li); }
  let cleanW = 0, useW = 0;
  for (const [src, b] of Object.entries(bySource)) {
    const li = document.createElement("li");
    const left = document.createElement("div");
    const name = document.createElement("div");
    const sub = document.createElement("div"); sub.className = "sub"; sub.textContent = kwh(b.kwh);
    const right = document.createElement("div"); right.className = "kw"; right.dataset.source = src;
    if (src === "gridImport" || src === "gridExport") {
      // A grid meter's signed power: positive draws from the grid, negative feeds it. Never a negative "import".
      const w = src === "gridExport" ? -b.w : b.w;
      name.textContent = !b.any || w === 0 ? t("grid-idle") : w > 0 ? t("grid-import") : t("grid-export");
      right.textContent = kw(w);
      if (w > 0) useW += w;
    } else {
      name.textContent = t(src);
      right.textContent = kw(b.w);
      const m = meters.find((x) => x.source === src);
      if (m && m.clean && b.w > 0) cleanW += b.w;
      if (b.w > 0) useW += b.w;
    }
    left.append(name, sub); li.append(left, right); list.append(li);
  }
  text("clean-now", useW > 0 ? nf(cleanW / useW * 100, 0) + " %" : dash);
  const p = s.provisional;
  text("clean-month", p ? nf(p.cleanShare * 100, 1) + " %" : dash);
  text("balance", tok(s.confirmedBalance));
  text("prov-total", p ? (p.totalTokens >= 0 ? "+" : "") + nf(p.totalTokens, 0) + " " + t("tokens-unit") : dash);
  text("prov-month", p ? t("month", p.month) : t("no-month"));
  text("f-demand", p && p.fDemand != null ? fac(p.fDemand) : dash);
  text("f-supply", p ? fac(p.fSupply) : dash);
  text("f-cong", p && p.congestionFactor != null ? fac(p.congestionFactor) : dash);
  text("t-carbon", p && p.carbonTokens != null ? nf(p.carbonTokens, 0) : dash);
  text("t-cong", p && p.congestionTokens != null ? nf(p.congestionTokens, 0) : dash);
  if (s.owner) {
    const up = $("uplink");
    up.textContent = s.uplinkConnected ? t("uplink-up") : t("uplink-down");
    up.className = s.uplinkConnected ? "badge ok" : "badge bad";
    text("c-out", nf(s.counters.outboxPending, 0));
    text("last-receipt", when(s.lastReceiptAt));
    text("clock", t(s.timeStatus));
    text("device", s.deviceAddress);
    text("version", s.version);
    text("c-read", nf(s.counters.readings, 0)); text("c-stored", nf(s.counters.stored, 0)); text("c-conf", nf(s.counters.confirmed, 0));
    renderHealth(meters);
    drawLcd(s.lcd || []);
    if (s.pairing) renderPairing(s.pairing);
  }
  show("owner-only-sync", !!s.owner); show("owner-only-health", !!s.owner); show("owner-only-lcd", !!s.owner);
  layout();
}

function renderHealth(meters) {
  const body = $("health");
  body.replaceChildren();
  for (const m of meters) {
    const tr = document.createElement("tr");
    const cells = [
      [m.id, "id"], [t(m.source)], [m.online ? t("online") : t("offline"), m.online ? "good" : "bad"], [kw(m.activePowerW)],
      [when(m.lastReadingAt)], [nf(m.requests, 0)], [nf(m.timeouts, 0)], [nf(m.errors, 0)], [nf(m.meanLatencyMs, 1) + " ms"], [t(m.breaker)],
    ];
    for (const [v, cls] of cells) { const td = document.createElement("td"); td.textContent = v; if (cls) td.className = cls; tr.append(td); }
    body.append(tr);
  }
}

function drawLcd(pages) {
  // A picture of the character LCD: its ROM has Latin letters only, so it shows what the gateway shows.
  const c = $("lcd"), g = c.getContext("2d");
  g.fillStyle = "#2f6f2f"; g.fillRect(0, 0, c.width, c.height);
  if (!pages.length) return;
  const [l1, l2] = pages[lcdPage % pages.length];
  g.fillStyle = "#d8f5c8"; g.font = "28px ui-monospace, Menlo, Consolas, monospace"; g.textBaseline = "top";
  g.fillText(l1, 16, 14); g.fillText(l2, 16, 54);
}

function renderPairing(p) {
  lastPair = p;
  const state = $("pair-state");
  if (p.paired && owner) {
    // The label is the owner's own text: kept apart (and as text), so neither language's table claims it.
    const [before, after] = T[lang]["paired-with"].split("{0}");
    const label = document.createElement("span"); label.className = "id"; label.textContent = p.label || t("operator-account");
    state.replaceChildren(before, label, after);
  } else {
    text("pair-state", p.paired ? t("paired-visitor") : t("not-paired"));
  }
  show("pair-details", p.paired && owner);
  if (p.paired && owner) { text("op-addr", p.operatorAddress || ""); text("paired-at", when(p.pairedAt)); }
  show("pair-form", !p.paired || p.codeActive);
  show("request-code", p.paired && !p.codeActive && !p.locked);
  $("request-code").textContent = owner ? t("pair-again") : t("request-code");
  text("pair-hint", p.locked ? t("locked", new Date(p.lockedUntil).toLocaleTimeString(locale(), { timeZone }))
    : p.awaitingPresence ? t("press-button") : t("enter-code"));
}

async function poll() {
  try {
    if (owner) {
      const r = await api("GET", "/api/status");
      if (r.ok) render(r.j);
    } else {
      const p = await api("GET", "/api/pair");
      if (p.ok) renderPairing(p.j);
      const s = await api("GET", "/api/status");
      if (s.ok) render(s.j); else { lastStatus = null; layout(); }
    }
    lastUpdated = new Date();
    const f = $("updated"); f.className = ""; f.textContent = t("updated", lastUpdated.toLocaleTimeString(locale(), { timeZone }));
  } catch (e) {
    const f = $("updated"); f.className = "bad"; f.textContent = t("unreachable");
  } finally {
    setTimeout(poll, 2000);
  }
}

async function loadSetup() {
  const [cfg, ports] = await Promise.all([api("GET", "/api/setup/config"), api("GET", "/api/setup/serial-ports")]);
  if (ports.ok) {
    const sp = $("m-serial");
    sp.replaceChildren(...(ports.j.ports.length ? ports.j.ports.map((p) => new Option(p, p)) : [new Option(t("no-ports"), "")]));
    const mp = $("m-map"), keep = mp.value;
    mp.replaceChildren(...ports.j.maps.map((m) => new Option(m, m)));
    mp.value = keep || "eastron-sdm630";
  }
  if (!cfg.ok) return;
  const c = cfg.j;
  const list = $("meter-list");
  list.replaceChildren();
  for (const m of c.meters) {
    const li = document.createElement("li");
    const left = document.createElement("div");
    const id = document.createElement("div"); id.className = "id"; id.textContent = m.id;
    const sub = document.createElement("div"); sub.className = "sub addr"; sub.textContent = m.protocol === "dlms" ? m.endpoint + " DLMS " + m.dlms.server : m.endpoint + " #" + m.unit;
    const src = document.createElement("div"); src.className = "sub"; src.textContent = t(m.source);
    left.append(id, src, sub);
    const del = document.createElement("button"); del.className = "ghost"; del.type = "button"; del.textContent = t("remove");
    del.addEventListener("click", async () => { const r = await api("POST", "/api/setup/meters/remove", { id: m.id }); msg("meter-msg", r.ok ? "ok" : "bad", r.ok ? t("saved") : errorText(r.j)); loadSetup(); });
    li.append(left, del); list.append(li);
  }
  $("u-broker").value = c.uplink.broker; $("u-user").value = c.uplink.username; $("u-protocol").value = c.uplink.protocol;
  text("u-stored", [c.uplink.hasPassword ? t("has-password") : "", c.uplink.hasCa ? t("has-ca") : "", c.uplink.hasClientCertificate ? t("has-cert") : ""].join(" ").trim());
  const tz = $("tz");
  if (tz.options.length <= 1) {
    for (const z of (Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : [])) tz.append(new Option(z, z));
  }
  tz.value = c.timeZone; $("public").checked = c.publicSummary;
}

function meterForm() {
  const protocol = $("m-protocol").value, conn = $("m-conn").value;
  let endpoint;
  if (conn === "serial") endpoint = "serial://" + $("m-serial").value + "?baud=" + $("m-baud").value + "&parity=" + $("m-parity").value + "&stop=" + $("m-stop").value;
  else endpoint = (conn === "rtutcp" ? "rtu+tcp://" : "tcp://") + $("m-host").value.trim() + ":" + $("m-port").value;
  const m = { id: $("m-id").value.trim(), protocol, endpoint, unit: Number($("m-unit").value), map: $("m-map").value, source: $("m-source").value, timeoutMs: Number($("m-timeout").value) };
  if (protocol === "dlms") {
    m.dlms = { transport: $("d-transport").value, client: Number($("d-client").value), server: Number($("d-server").value), auth: $("d-auth").value,
      password: $("d-password").value, blockKey: $("d-block").value.trim(), authKey: $("d-authkey").value.trim(), systemTitle: $("d-title").value.trim(),
      obis: $("d-obis").value.split(/\s+/).filter((x) => x) };
  }
  return m;
}

function protocolChanged() {
  const dlms = $("m-protocol").value === "dlms", serial = $("m-conn").value === "serial";
  show("dlms-fields", dlms); show("modbus-fields", !dlms);
  show("tcp-fields", !serial); show("serial-fields", serial);
  $("m-port").placeholder = dlms ? "4059" : "502";
  show("d-low", dlms && $("d-auth").value === "low"); show("d-hls", dlms && $("d-auth").value === "hls-gmac");
}

$("m-protocol").addEventListener("change", protocolChanged);
$("m-conn").addEventListener("change", protocolChanged);
$("d-auth").addEventListener("change", protocolChanged);

$("test-read").addEventListener("click", async () => {
  msg("meter-msg", "", t("reading")); $("read-values").replaceChildren(); show("read-table", false); lastRead = null;
  const r = await api("POST", "/api/setup/meters/test", meterForm());
  if (!r.ok) { msg("meter-msg", "bad", errorText(r.j)); return; }
  msg("meter-msg", "ok", t("read-ok"));
  showRead(r.j.values);
});

function showRead(values) {
  lastRead = values;
  $("read-values").replaceChildren();
  for (const v of values) {
    const tr = document.createElement("tr");
    const a = document.createElement("td"); a.textContent = qname(v.quantity);
    const b = document.createElement("td"); b.textContent = nf(v.value, 3) + (v.unit ? " " + v.unit : ""); b.dataset.quantity = v.quantity;
    tr.append(a, b); $("read-values").append(tr);
  }
  show("read-table", true);
}

$("meter-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const r = await api("POST", "/api/setup/meters", meterForm());
  msg("meter-msg", r.ok ? "ok" : "bad", r.ok ? t("saved") : errorText(r.j));
  if (r.ok) loadSetup();
});

const uplinkForm = () => ({ broker: $("u-broker").value.trim(), username: $("u-user").value.trim(), password: $("u-password").value === "" ? null : $("u-password").value, protocol: $("u-protocol").value });
$("u-test").addEventListener("click", async () => {
  msg("uplink-msg", "", t("connecting"));
  const r = await api("POST", "/api/setup/uplink/test", uplinkForm());
  msg("uplink-msg", r.ok ? "ok" : "bad", r.ok ? t("connected-with", r.j.detail) : errorText(r.j));
});
$("uplink-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const r = await api("POST", "/api/setup/uplink", uplinkForm());
  msg("uplink-msg", r.ok ? "ok" : "bad", r.ok ? t("saved") : errorText(r.j));
  if (r.ok) { $("u-password").value = ""; loadSetup(); }
});
for (const kind of ["ca", "cert", "key"]) {
  $("f-" + kind).addEventListener("change", async (ev) => {
    const file = ev.target.files[0]; if (!file) return;
    const r = await api("POST", "/api/setup/uplink/file", { kind, pem: await file.text() });
    msg("uplink-msg", r.ok ? "ok" : "bad", r.ok ? t("uploaded") : errorText(r.j));
    ev.target.value = ""; if (r.ok) loadSetup();
  });
}
$("tz-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const r = await api("POST", "/api/setup/time-zone", { timeZone: $("tz").value });
  msg("tz-msg", r.ok ? "ok" : "bad", r.ok ? t("saved") : errorText(r.j));
});
$("public-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const r = await api("POST", "/api/setup/public-summary", { enabled: $("public").checked });
  msg("public-msg", r.ok ? "ok" : "bad", r.ok ? t("saved") : errorText(r.j));
});

$("pair-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  msg("pair-msg", "", t("pairing"));
  try {
    const { ok, j } = await api("POST", "/api/pair", { code: $("code").value.trim(), operatorAddress: $("operator").value.trim(), label: $("label").value.trim() });
    if (ok) {
      csrf = j.csrf; owner = true; $("code").value = "";
      msg("pair-msg", "ok", t("paired"));
      renderPairing(j.pairing); layout(); loadSetup(); poll1();
      return;
    }
    const text = j.result === "wrong_code" ? t("wrong-code", j.attemptsLeft) : j.result === "locked" ? t("locked", "\u2026")
      : j.result === "no_code" ? t("no-code") : j.result === "invalid_operator" ? t("bad-operator") : j.result ? errorText(j) : t("pair-failed");
    msg("pair-msg", "bad", text);
  } catch (e) { msg("pair-msg", "bad", t("unreachable")); }
});

$("request-code").addEventListener("click", async () => {
  const { ok, j } = await api("POST", "/api/pair/code", {});
  msg("pair-msg", ok ? "" : "bad", ok ? t("code-shown") : j.result === "presence_required" ? t("press-button") : j.result === "locked" ? t("locked", "\u2026") : errorText(j));
  if (j.pairing) renderPairing(j.pairing);
});

$("logout").addEventListener("click", async () => {
  await api("POST", "/api/logout", {});
  owner = false; csrf = null; lastStatus = null; layout(); poll1();
});
$("lang-en").addEventListener("click", () => setLang("en"));
$("lang-zh").addEventListener("click", () => setLang("zh"));
setInterval(() => { lcdPage++; if (lastStatus && lastStatus.lcd) drawLcd(lastStatus.lcd); }, 4000);

async function poll1() {
  if (owner) { const r = await api("GET", "/api/status"); if (r.ok) render(r.j); }
}

(async () => {
  translate();
  protocolChanged();
  const s = await api("GET", "/api/session");
  if (s.ok) { owner = true; csrf = s.j.csrf; loadSetup(); }
  layout();
  poll();
})();
""";

    private const string Body = """
<header><h1 data-i18n="title"></h1><div class="right"><span id="uplink" class="badge" hidden></span>
<button id="lang-en" type="button" data-i18n="lang-en"></button><button id="lang-zh" type="button" data-i18n="lang-zh"></button>
<button id="logout" type="button" data-i18n="logout" hidden></button></div></header>
<main>
<section class="card" id="pair-card" aria-labelledby="h-pair">
<h2 id="h-pair" data-i18n="h-pair"></h2>
<div id="pair-state"></div>
<dl id="pair-details" hidden><dt data-i18n="op"></dt><dd id="op-addr" class="addr"></dd><dt data-i18n="paired-at"></dt><dd id="paired-at"></dd></dl>
<button id="request-code" class="ghost" type="button" hidden></button>
<form id="pair-form" hidden autocomplete="off">
<p id="pair-hint" class="sub"></p>
<label for="code" data-i18n="l-code"></label>
<input id="code" name="code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" required placeholder="000000">
<label for="operator" data-i18n="l-operator"></label>
<input id="operator" name="operator" class="addr" pattern="0[xX][0-9a-fA-F]{40}" maxlength="42" required placeholder="0x&hellip;" spellcheck="false" autocapitalize="off">
<label for="label" data-i18n="l-label"></label>
<input id="label" name="label" maxlength="64" data-i18n-ph="ph-label">
<button class="full" type="submit" data-i18n="pair"></button>
</form>
<p id="pair-msg" class="msg" role="status"></p>
</section>
<div id="dashboard" class="grid wide" hidden>
<p id="summary-note" class="sub wide" data-i18n="summary-note" hidden></p>
<section class="card" aria-labelledby="h-power">
<h2 id="h-power" data-i18n="h-power"></h2>
<ul id="sources"></ul>
<dl><dt data-i18n="clean-now"></dt><dd id="clean-now">&mdash;</dd><dt data-i18n="clean-share"></dt><dd id="clean-month">&mdash;</dd></dl>
</section>
<section class="card" aria-labelledby="h-tokens">
<h2 id="h-tokens" data-i18n="h-tokens"></h2>
<div class="pair">
<div><div><span data-i18n="confirmed"></span><span class="tag conf" data-i18n="confirmed-tag"></span></div>
<div id="balance" class="amount">&mdash;</div><div class="sub" data-i18n="confirmed-sub"></div></div>
<div><div><span data-i18n="provisional"></span><span class="tag prov" data-i18n="estimate-tag"></span></div>
<div id="prov-total" class="amount">&mdash;</div><div class="sub"><span id="prov-month"></span> &middot; <span data-i18n="estimate-sub"></span></div></div>
</div>
<dl>
<dt data-i18n="f-demand"></dt><dd id="f-demand">&mdash;</dd>
<dt data-i18n="f-supply"></dt><dd id="f-supply">&mdash;</dd>
<dt data-i18n="f-cong"></dt><dd id="f-cong">&mdash;</dd>
<dt data-i18n="t-carbon"></dt><dd id="t-carbon">&mdash;</dd>
<dt data-i18n="t-cong"></dt><dd id="t-cong">&mdash;</dd>
</dl>
</section>
<section class="card" id="owner-only-sync" aria-labelledby="h-sync" hidden>
<h2 id="h-sync" data-i18n="h-sync"></h2>
<dl>
<dt data-i18n="backlog"></dt><dd id="c-out">&mdash;</dd>
<dt data-i18n="last-receipt"></dt><dd id="last-receipt">&mdash;</dd>
<dt data-i18n="time-status"></dt><dd id="clock">&mdash;</dd>
<dt data-i18n="readings"></dt><dd id="c-read">&mdash;</dd>
<dt data-i18n="stored"></dt><dd id="c-stored">&mdash;</dd>
<dt data-i18n="confirmed-n"></dt><dd id="c-conf">&mdash;</dd>
<dt data-i18n="device"></dt><dd id="device" class="addr">&mdash;</dd>
<dt data-i18n="version"></dt><dd id="version" class="addr">&mdash;</dd>
</dl>
</section>
<section class="card" id="owner-only-lcd" aria-labelledby="h-lcd" hidden>
<h2 id="h-lcd" data-i18n="h-lcd"></h2>
<canvas id="lcd" width="420" height="96" role="img"></canvas>
</section>
<section class="card wide" id="owner-only-health" aria-labelledby="h-health" hidden>
<h2 id="h-health" data-i18n="h-health"></h2>
<div class="scroll"><table><thead><tr><th data-i18n="l-id"></th><th data-i18n="l-source"></th><th data-i18n="l-state"></th><th data-i18n="h-power"></th><th data-i18n="l-last-reading"></th>
<th data-i18n="requests"></th><th data-i18n="timeouts"></th><th data-i18n="errors"></th><th data-i18n="latency"></th><th data-i18n="breaker"></th></tr></thead><tbody id="health"></tbody></table></div>
</section>
</div>
<div id="owner-area" class="grid wide" hidden>
<section class="card wide" aria-labelledby="h-meters">
<h2 id="h-meters" data-i18n="h-meters"></h2>
<ul id="meter-list"></ul>
<h3 data-i18n="h-new-meter"></h3>
<form id="meter-form" autocomplete="off">
<div class="grid2">
<div><label for="m-id" data-i18n="l-id"></label><input id="m-id" required maxlength="64" pattern="[A-Za-z0-9._\-]{1,64}" class="id"></div>
<div><label for="m-protocol" data-i18n="l-protocol"></label><select id="m-protocol"><option value="modbus">Modbus</option><option value="dlms">DLMS/COSEM</option></select></div>
<div><label for="m-conn" data-i18n="l-conn"></label><select id="m-conn"><option value="tcp" data-i18n="conn-tcp"></option><option value="rtutcp" data-i18n="conn-rtutcp"></option><option value="serial" data-i18n="conn-serial"></option></select></div>
<div><label for="m-source" data-i18n="l-source"></label><select id="m-source"></select></div>
</div>
<div id="tcp-fields" class="grid2">
<div><label for="m-host" data-i18n="l-host"></label><input id="m-host" class="addr" placeholder="192.0.2.10" spellcheck="false"></div>
<div><label for="m-port" data-i18n="l-port"></label><input id="m-port" type="number" min="1" max="65535" value="502"></div>
</div>
<div id="serial-fields" class="grid2" hidden>
<div><label for="m-serial" data-i18n="l-serial"></label><select id="m-serial" class="addr"></select></div>
<div><label for="m-baud" data-i18n="l-baud"></label><select id="m-baud"><option>1200</option><option>2400</option><option>4800</option><option selected>9600</option><option>19200</option><option>38400</option><option>115200</option></select></div>
<div><label for="m-parity" data-i18n="l-parity"></label><select id="m-parity"><option value="N" data-i18n="parity-N"></option><option value="E" data-i18n="parity-E"></option><option value="O" data-i18n="parity-O"></option></select></div>
<div><label for="m-stop" data-i18n="l-stop"></label><select id="m-stop"><option>1</option><option>2</option></select></div>
</div>
<div id="modbus-fields" class="grid2">
<div><label for="m-unit" data-i18n="l-unit"></label><input id="m-unit" type="number" min="1" max="247" value="1"></div>
<div><label for="m-map" data-i18n="l-map"></label><select id="m-map" class="id"></select></div>
</div>
<div id="dlms-fields" class="grid2" hidden>
<div><label for="d-transport" data-i18n="l-transport"></label><select id="d-transport"><option value="wrapper" data-i18n="tr-wrapper"></option><option value="hdlc" data-i18n="tr-hdlc"></option></select></div>
<div><label for="d-auth" data-i18n="l-auth"></label><select id="d-auth"><option value="none" data-i18n="auth-none"></option><option value="low" data-i18n="auth-low"></option><option value="hls-gmac" data-i18n="auth-hls-gmac"></option></select></div>
<div><label for="d-client" data-i18n="l-client"></label><input id="d-client" type="number" min="1" max="127" value="16"></div>
<div><label for="d-server" data-i18n="l-server"></label><input id="d-server" type="number" min="1" max="16383" value="1"></div>
<div id="d-low" hidden><label for="d-password" data-i18n="l-password"></label><input id="d-password" type="password" autocomplete="off"></div>
<div id="d-hls" hidden>
<label for="d-block" data-i18n="l-block-key"></label><input id="d-block" class="addr" maxlength="32" spellcheck="false">
<label for="d-authkey" data-i18n="l-auth-key"></label><input id="d-authkey" class="addr" maxlength="32" spellcheck="false">
<label for="d-title" data-i18n="l-system-title"></label><input id="d-title" class="addr" maxlength="16" spellcheck="false">
</div>
<div><label for="d-obis" data-i18n="l-obis"></label><input id="d-obis" class="addr" value="1.0.1.8.0.255 1.0.2.8.0.255 1.0.1.7.0.255" spellcheck="false"></div>
</div>
<div class="grid2"><div><label for="m-timeout" data-i18n="l-timeout"></label><input id="m-timeout" type="number" min="20" max="60000" value="1000"></div></div>
<button id="test-read" type="button" class="ghost" data-i18n="test-read"></button>
<button id="save-meter" type="submit" data-i18n="save-meter"></button>
</form>
<p id="meter-msg" class="msg" role="status"></p>
<table id="read-table" hidden><thead><tr><th data-i18n="quantity"></th><th data-i18n="value"></th></tr></thead><tbody id="read-values"></tbody></table>
</section>
<section class="card" aria-labelledby="h-uplink">
<h2 id="h-uplink" data-i18n="h-uplink"></h2>
<form id="uplink-form" autocomplete="off">
<label for="u-broker" data-i18n="l-broker"></label><input id="u-broker" class="addr" placeholder="mqtts://ledger.example.net:8883" spellcheck="false">
<div class="grid2">
<div><label for="u-user" data-i18n="l-user"></label><input id="u-user" class="addr" spellcheck="false"></div>
<div><label for="u-protocol" data-i18n="l-mqtt-protocol"></label><select id="u-protocol"><option value="5">5</option><option value="311">3.1.1</option></select></div>
</div>
<label for="u-password" data-i18n="l-mqtt-password"></label><input id="u-password" type="password" autocomplete="new-password">
<p id="u-stored" class="sub"></p>
<label for="f-ca" data-i18n="l-ca"></label><input id="f-ca" type="file" accept=".pem,.crt">
<label for="f-cert" data-i18n="l-cert"></label><input id="f-cert" type="file" accept=".pem,.crt">
<label for="f-key" data-i18n="l-key"></label><input id="f-key" type="file" accept=".pem,.key">
<button id="u-test" type="button" class="ghost" data-i18n="test-connection"></button>
<button type="submit" data-i18n="save-uplink"></button>
</form>
<p id="uplink-msg" class="msg" role="status"></p>
</section>
<section class="card" aria-labelledby="h-tz">
<h2 id="h-tz" data-i18n="h-tz"></h2>
<form id="tz-form"><label for="tz" data-i18n="l-tz"></label><select id="tz" class="addr"><option value="" data-i18n="tz-gateway"></option></select>
<button type="submit" data-i18n="save-tz"></button></form>
<p id="tz-msg" class="msg" role="status"></p>
<h2 id="h-public" class="mt" data-i18n="h-public"></h2>
<form id="public-form"><label><input id="public" type="checkbox"><span data-i18n="l-public"></span></label>
<button type="submit" data-i18n="save-public"></button></form>
<p id="public-msg" class="msg" role="status"></p>
</section>
</div>
</main>
<footer id="updated"></footer>
""";

    private static readonly byte[] HtmlEn = Build("en");
    private static readonly byte[] HtmlZh = Build("zh-CN");

    /// <summary>The page with <c>&lt;html lang&gt;</c> set to <paramref name="language"/> (<c>en</c> or <c>zh</c>).</summary>
    public static byte[] Html(string language) => language == "zh" ? HtmlZh : HtmlEn;

    /// <summary>
    /// The language for an Accept-Language header: <c>zh</c> when a Chinese tag has a higher weight than any English
    /// one (ties go to the earlier), else <c>en</c>.
    /// </summary>
    public static string PickLanguage(string? acceptLanguage)
    {
        if (string.IsNullOrEmpty(acceptLanguage))
        {
            return "en";
        }

        double zh = -1, en = -1;
        foreach (var part in acceptLanguage.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var pieces = part.Split(';', StringSplitOptions.TrimEntries);
            double q = 1;
            foreach (var p in pieces.Skip(1))
            {
                if (p.StartsWith("q=", StringComparison.OrdinalIgnoreCase)
                    && !double.TryParse(p.AsSpan(2), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out q))
                {
                    q = 0;
                }
            }

            var tag = pieces[0];
            if ((tag.Equals("zh", StringComparison.OrdinalIgnoreCase) || tag.StartsWith("zh-", StringComparison.OrdinalIgnoreCase)) && q > zh)
            {
                zh = q;
            }
            else if ((tag.Equals("en", StringComparison.OrdinalIgnoreCase) || tag.StartsWith("en-", StringComparison.OrdinalIgnoreCase) || tag == "*") && q > en)
            {
                en = q;
            }
        }

        return zh > 0 && zh > en ? "zh" : "en";
    }

    private static byte[] Build(string lang) => Encoding.UTF8.GetBytes(string.Concat(
        "<!doctype html>\n<html lang=\"", lang, "\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">",
        "<meta name=\"color-scheme\" content=\"light dark\">",
        "<title>EdgeMeter</title><link rel=\"icon\" href=\"data:,\">",
        "<style>", Style, "</style></head><body>", Body,
        "<script>", Script, "</script></body></html>\n"));

    /// <summary>
    /// Only our own inline style and script, fetches to the same origin, no frames, no forms posted elsewhere.
    /// </summary>
    public static readonly string ContentSecurityPolicy = string.Concat(
        "default-src 'none'; ",
        "style-src '", Hash(Style), "'; ",
        "script-src '", Hash(Script), "'; ",
        "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");

    private static string Hash(string inline) => "sha256-" + Convert.ToBase64String(Sha256.HashData(Encoding.UTF8.GetBytes(inline)));
}
