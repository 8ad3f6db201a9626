//! The portal's words in Simplified Chinese (first) and English. One table, both languages side by
//! side, so a label cannot exist in one language only; templates read `c.t.<key>`.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "zh" | "zh-CN" | "zh-cn" => Some(Lang::Zh),
            "en" | "en-US" | "en-GB" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The value of `<html lang>`.
    pub fn html(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn text(self) -> &'static Text {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }
}

macro_rules! texts {
    ($($key:ident: $zh:literal, $en:literal;)*) => {
        /// Every label of the portal.
        #[derive(Debug)]
        pub struct Text { $(pub $key: &'static str,)* }
        pub static ZH: Text = Text { $($key: $zh,)* };
        pub static EN: Text = Text { $($key: $en,)* };
    };
}

texts! {
    platform: "公共信用信息服务平台", "Public Credit Information Service Platform";
    platform_short: "信用平台", "Credit Platform";
    skip: "跳到正文", "Skip to content";
    home: "首页", "Home";
    search: "信用查询", "Search";
    search_button: "查询", "Search";
    search_hint: "输入企业名称中任意两个以上的字，或统一社会信用代码", "Any two or more characters of a name, or a unified social credit code";
    search_label: "名称或代码", "Name or code";
    publicity: "双公示", "Licences & penalties";
    licenses: "行政许可", "Administrative licences";
    penalties: "行政处罚", "Administrative penalties";
    lists: "红黑名单", "Reward & punishment lists";
    verify: "报告核验", "Verify a report";
    rules: "规则说明", "Rules";
    workbench: "工作台", "Workbench";
    dashboard: "综合监测", "Monitoring";
    sign_in: "登录", "Sign in";
    sign_out: "退出", "Sign out";
    change_password: "修改密码", "Change password";
    language: "English", "中文";
    user_name: "用户名", "User name";
    password: "密码", "Password";
    current_password: "当前密码", "Current password";
    new_password: "新密码", "New password";
    repeat_password: "再次输入新密码", "Repeat the new password";
    password_rule: "至少 10 个字符，且不得包含用户名。", "At least 10 characters, not containing the user name.";
    password_changed: "密码已修改。其他设备上的登录已全部退出。", "Password changed. Every other session was signed out.";
    bad_login: "用户名或密码错误。", "Wrong user name or password.";
    locked: "登录失败次数过多，账户已暂时锁定，请稍后再试。", "Too many failed sign-ins: the account is locked for a while. Try again later.";
    no_password: "此账户尚未设置密码，请联系管理员。", "This account has no password yet: ask an administrator.";
    address_throttled: "本机所在网络登录失败次数过多，请稍后再试。", "Too many failed sign-ins from your network: try again later.";
    session_ended: "登录已过期，请重新登录。", "Your session ended: please sign in again.";
    results: "查询结果", "Results";
    results_total: "共找到", "Found";
    results_unit: "条", "";
    no_results: "未找到相关主体。", "No subject found.";
    name: "名称", "Name";
    code: "统一社会信用代码", "Unified social credit code";
    resident_id: "身份证号", "Resident ID";
    kind: "类型", "Kind";
    subject_page: "主体信用信息", "Credit information";
    public_records: "公示信息", "Published records";
    list_memberships: "名单信息", "List memberships";
    none_in_period: "查询期内无相关信息", "No information in the period";
    item: "信息事项", "Item";
    date: "日期", "Date";
    unit: "提供单位", "Supplying unit";
    status: "状态", "Status";
    details: "详情", "Details";
    disputed: "异议处理中", "Under objection";
    public_until: "公示截止", "Published until";
    from: "起始日期", "From";
    to: "截止日期", "To";
    filter: "筛选", "Filter";
    previous: "上一页", "Previous";
    next: "下一页", "Next";
    page: "页", "page";
    of: "共", "of";
    subjects: "主体", "Subjects";
    records: "信息记录", "Records";
    batches: "归集批次", "Batches";
    collection: "数据归集", "Collection";
    link_rate: "关联率", "Link rate";
    rows: "行数", "Rows";
    accepted: "接收", "Accepted";
    rejected: "拒收", "Rejected";
    created: "新增", "Created";
    updated: "更新", "Updated";
    unchanged: "未变", "Unchanged";
    row: "行号", "Row";
    field: "字段", "Field";
    error_code: "错误代码", "Code";
    reason: "原因", "Reason";
    upload: "上报数据", "Upload a batch";
    upload_hint: "将文件拖放到此处，或点击选择文件（CSV、XLSX、JSON Lines；UTF-8 或 GB18030）", "Drop a file here or choose one (CSV, XLSX, JSON lines; UTF-8 or GB18030)";
    file: "文件", "File";
    all_or_nothing: "全部正确才入库（任一行错误则整批拒收）", "All or nothing (any bad row rejects the batch)";
    submit: "提交", "Submit";
    batch: "批次", "Batch";
    batch_result: "批次结果", "Batch result";
    download_errors_csv: "下载错误明细（CSV）", "Download errors (CSV)";
    download_errors_xlsx: "下载错误明细（XLSX）", "Download errors (XLSX)";
    download_rejected_rows: "下载被拒绝的原始行（CSV，改正后可重新上传）", "Download the rejected rows (CSV, to correct and upload again)";
    download_rejected_rows_xlsx: "下载被拒绝的原始行（XLSX）", "Download the rejected rows (XLSX)";
    quality_history: "数据质量历史", "Data quality history";
    accept_rate: "接收率", "Accept rate";
    time: "时间", "Time";
    uploading: "上传中…", "Uploading…";
    profile_query: "信用信息查询", "Profile query";
    subject_key: "统一社会信用代码 / 身份证号 / 主体编号", "USCC / resident ID / subject id";
    purpose: "查询用途", "Purpose";
    query: "查询", "Query";
    check: "联合奖惩核查", "Joint reward/punishment check";
    scenario: "应用场景", "Scenario";
    measures: "适用措施", "Applicable measures";
    no_measures: "未命中名单，无适用措施。", "On no list: no measure applies.";
    feedback: "反馈", "Feedback";
    outcome: "处理结果", "Outcome";
    applied: "已采取", "Applied";
    partly_applied: "部分采取", "Partly applied";
    not_applied: "未采取", "Not applied";
    note: "说明", "Note";
    my_credit: "我的信用", "My credit";
    who_queried: "谁查询了我", "Who queried me";
    queried_by: "查询方", "Queried by";
    channel: "渠道", "Channel";
    objections: "异议", "Objections";
    repairs: "信用修复", "Credit repair";
    file_objection: "提出异议", "Object";
    apply_repair: "申请修复", "Apply for repair";
    evidence: "证明材料（每行一项）", "Evidence (one item per line)";
    commitment_signed: "本人已签署信用修复承诺书", "I have signed a credit-repair commitment";
    deadline: "办理时限", "Deadline";
    overdue: "已超期", "Overdue";
    queues: "待办队列", "Work queues";
    action: "操作", "Action";
    accept: "受理", "Accept";
    reject: "不予受理", "Reject";
    forward: "转提供单位", "Forward to unit";
    decide: "作出决定", "Decide";
    corrected: "更正", "Corrected";
    deleted: "删除", "Deleted";
    upheld: "维持", "Upheld";
    approve: "同意修复", "Approve";
    refuse: "不予修复", "Refuse";
    history: "办理过程", "History";
    catalog: "信息目录", "Catalog";
    units: "单位", "Units";
    accounts: "账户", "Accounts";
    audit: "查询日志", "Query log";
    role: "角色", "Role";
    add_account: "新建账户", "Add account";
    token_once: "API 令牌（只显示一次）", "API token (shown once)";
    category: "类别", "Category";
    openness: "公开属性", "Openness";
    severity: "失信程度", "Severity";
    fields: "字段", "Fields";
    collection_by_unit: "各单位归集量", "Collected by unit";
    collection_by_month: "按月归集量", "Collected by month";
    collection_by_category: "按类别归集量", "Collected by category";
    link_rate_by_unit: "各单位关联率", "Link rate by unit";
    queries_by_channel: "按渠道查询量", "Queries by channel";
    queries_by_purpose: "按用途查询量", "Queries by purpose";
    queries_by_month: "按月查询量", "Queries by month";
    cases_timeliness: "异议与修复办理情况", "Objections and repairs";
    joint_loop: "联合奖惩闭环", "Joint reward/punishment loop";
    grades: "信用评价等级分布", "Grade distribution";
    evaluation: "公共信用综合评价", "Credit evaluation";
    no_data: "暂无数据", "No data yet";
    open: "办理中", "Open";
    closed: "已办结", "Closed";
    on_time: "按时", "On time";
    late: "超时", "Late";
    checks_total: "核查次数", "Checks";
    hits: "命中", "Hits";
    feedback_given: "已反馈", "With feedback";
    rules_intro: "本平台依据国家和本市有关规定归集、公示和共享公共信用信息。以下用通俗的话说明主要规则。", "The platform collects, publishes and shares public credit information under national and Shanghai rules. In plain words:";
    rules_windows: "行政处罚信息公示期限", "How long penalties stay published";
    rules_objection: "如何提出异议", "How to object";
    rules_repair: "如何申请信用修复", "How to apply for credit repair";
    regime: "适用规定", "Regime";
    in_force_from: "施行日期", "In force from";
    minor: "轻微", "Minor";
    general: "一般", "General";
    serious: "严重", "Serious";
    min_months: "最短公示期（月）", "Minimum (months)";
    max_months: "最长公示期（月）", "Maximum (months)";
    working_days: "个工作日", "working days";
    repair_from: "可申请修复自", "Repair possible from";
    not_found: "未找到", "Not found";
    forbidden: "无权访问", "Not allowed";
    error: "出错了", "Something went wrong";
    back_home: "返回首页", "Back to the home page";
    welcome: "欢迎", "Welcome";
    signed_in_as: "当前用户", "Signed in as";
    issue_report: "出具信用报告", "Issue a credit report";
    verify_intro: "上传平台出具的信用报告文件（PDF、HTML 或 JSON），核验其是否由本平台出具且未被篡改。", "Upload a credit report file (PDF, HTML or JSON) issued by this platform to check that it is authentic and unaltered.";
    report_kind: "报告类型", "Report kind";
    standard_report: "标准版信用报告", "Standard credit report";
    special_report: "专用信用报告（替代无违法违规证明）", "Special credit report (replaces certificates of no violation)";
    domains: "领域（专用信用报告）", "Domains (special report)";
    domains_hint: "专用信用报告须选择领域；起止日期默认为近三年。", "A special report names its domains; the period defaults to the last three years.";
    report_number: "报告编号", "Report number";
    report_signed: "报告文件带有平台的电子签名，任何改动都会使核验失败。", "Report files carry the platform's signature: any change makes verification fail.";
    register_found: "该报告编号由本平台出具，真实有效。", "This platform issued a report with this number.";
    register_missing: "未找到该编号的信用报告，该编号不是本平台出具的报告编号", "No report with this number was issued by this platform";
    file_valid: "文件真实有效：内容与平台签发时一致。", "Authentic: the file is exactly as the platform signed it.";
    file_invalid: "核验失败：文件已被改动或非本平台出具", "Not authentic: the file was changed or not issued by this platform";
    footer: "本平台数据来源于各提供单位，如有异议可依法提出。", "Data come from the supplying units; you may object to any of it by law.";
}
