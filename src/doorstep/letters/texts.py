"""The fixed wording of every document, in both languages side by side.

Held here rather than in gettext catalogues: the project compiles no message catalogues (no
LOCALE_PATHS, no .po files), and a letter's wording is reviewed by compliance as a whole, in both
languages at once, which a side-by-side mapping shows and a catalogue scatters.

render.py fills the {placeholders} with escaped values; markup in the texts themselves is trusted.
A tuple is a list of points. Every text must stay clear of the forbidden phrases
(compliance/packs/phrases.yaml): the tests check the rendered documents."""

from doorstep.letters.documents import Language

TEXTS: dict[Language, dict[str, str | tuple[str, ...]]] = {
    "zh": {
        # The visit notice (上门核实通知书).
        "notice_title": "上门核实通知书",
        "service_line": "客服电话 {phone}",
        "colon": "：",
        "reference": "编号",
        "date": "日期",
        "address": "地址",
        "addressee": "{borrower}（收）",
        "salutation": "尊敬的{borrower}：",
        "intro": (
            "您在{lender}办理的{product}（账户号 {account}）截至{issued}已逾期 {dpd} 天，"
            "逾期金额为 {overdue}，未还余额合计 {outstanding}（含尚未到期部分）。"
            "为当面了解您的实际情况，并与您商量可行的还款方式，我们计划安排工作人员上门拜访。"
            "具体安排如下："
        ),
        "product": "产品",
        "account": "账户号",
        "dpd": "逾期天数",
        "dpd_value": "{dpd} 天",
        "overdue": "逾期金额",
        "outstanding": "未还余额",
        "h_purpose": "一、拜访目的",
        "h_when": "二、拜访时间",
        "when": "<strong>{visit_date}（{weekday}）{start}–{end}</strong>",
        "hours": (
            "我们只在每天 {hours_start}–{hours_end} 之间上门。如上述时间不便，"
            "您可以按第五项另约时间。"
        ),
        "h_visitors": "三、上门人员",
        "visitors_intro": "届时将由以下工作人员上门，他们会主动向您出示工作证件：",
        "visitor_name": "姓名",
        "visitor_credential": "工作证编号",
        "visitor_organisation": "所属单位",
        "h_verify": "四、如何核实上门人员身份",
        "verify": (
            "开门前，您可以核实来访人员的身份：用手机扫描其工作证上的二维码，"
            "或访问 {verify_url} 输入工作证编号查询，也可以拨打我司客服电话 {phone} 核实。"
            "无法核实身份的，您有权拒绝接待。"
        ),
        "no_cash": ("请只通过我司官方渠道还款，不要向任何个人账户转账，也不要把现金交给任何人。"),
        "h_respond": "五、请于{respond_by}前告诉我们您的选择",
        "respond_intro": "扫描右侧二维码或访问 {respond_url}，您可以：",
        "confirm": "<strong>确认</strong>：按上述时间接待来访；",
        "reschedule": (
            "<strong>改约</strong>：另选日期或时段（最晚可改至 {reschedule_until}，"
            "每天 {hours_start}–{hours_end} 之间）；"
        ),
        "decline": (
            "<strong>拒绝</strong>：不接受上门拜访。您拒绝后，本次上门不会进行，"
            "我们将改用电话、短信等方式与您联系；"
        ),
        "pay": (
            "<strong>直接还款</strong>：访问 {pay_url} 还款。还清逾期金额 {overdue} 后，"
            "本次上门自动取消。"
        ),
        "no_reply": (
            "如未收到您的答复，工作人员将按上述时间上门。"
            "如您已还清逾期款项，本次上门已自动取消，请忽略本通知。"
        ),
        "qr_caption": "扫码答复<br>确认 · 改约 · 拒绝",
        "h_commitment": "六、我们的承诺",
        "commitment": (
            "上门人员将遵守法律法规和我司行为规范，文明礼貌地与您沟通，"
            "不会向您的家人、邻居、同事或其他任何人透露您的借款情况。"
            "如您对本通知或上门人员的言行有任何疑问或意见，请拨打 {phone}。"
        ),
        "closing": "特此通知。",
        "seal": "（盖章）",
        "notice_footer": "{lender} · 上门核实通知书 · 编号 {reference}",
        # The case file (外访案件资料).
        "case_title": "外访案件资料",
        "internal": "内部资料，仅供外访人员使用。请妥善保管，除借款人本人外不得向任何人出示。",
        "generated": "生成时间",
        "h_borrower": "一、借款人与账户",
        "borrower": "借款人",
        "phone_masked": "手机（脱敏）",
        "opened_on": "开户日期",
        "principal": "借款本金",
        "bucket": "逾期阶段",
        "h_breakdown": "二、逾期明细",
        "seq": "期次",
        "due_date": "到期日",
        "col_principal": "本金",
        "col_interest": "利息",
        "col_fee": "费用",
        "col_late_fee": "滞纳金",
        "col_penalty": "罚息",
        "col_total": "合计",
        "days_overdue": "逾期天数",
        "breakdown_total": "合计（即逾期金额）",
        "h_statement": "三、账户流水",
        "posted_on": "日期",
        "description": "摘要",
        "debit": "借方",
        "credit": "贷方",
        "balance": "余额",
        "no_entries": "无流水。",
        "h_basis": "四、合同与法律依据",
        "h_reasons": "五、上门决策依据",
        "h_notice": "六、上门通知",
        "notice_reference": "通知编号",
        "notice_issued": "发出日期",
        "notice_when": "拜访时间",
        "notice_visitors": "上门人员",
        "notice_respond_by": "答复期限",
        "notice_attached": "通知全文附后，与借款人收到的版本一致。",
        "no_notice": "尚未发出上门通知：通知发出前不得上门。",
        "h_options": "七、可向借款人提供的还款方案（限本人权限内）",
        "no_options": "无：请借款人通过官方渠道联系我司协商。",
        "h_conduct": "八、上门守则",
        "conduct": (
            "只在通知所载时段内、每天 {hours_start}–{hours_end} 之间上门；借款人已拒绝或改约的，按其答复执行。",
            "到达后主动出示工作证件，请借款人扫码核验。",
            "核实借款人身份后方可谈及账户情况；不向任何第三方透露借款情况。",
            "文明沟通，不得威胁、恐吓、辱骂，不得作虚假或夸大的法律后果陈述。",
            "不收取现金，不接受转入个人账户的款项；还款只走官方渠道。",
            "借款人要求离开时立即离开；如实记录签到、核实情况、结果与备注。",
        ),
        "signature": "外访人员签字",
        "appendix": "附件：上门核实通知书（发出版本）",
        "case_footer": "外访案件资料 · 编号 {reference} · 内部资料",
        # The settlement certificate (结清证明).
        "cert_title": "结清证明",
        "cert_statement": (
            "兹证明：{borrower}（身份证号 {national_id}）于{opened}在{lender}办理的{product}"
            "（账户号 {account}，借款本金 {principal}），截至{settled}，该账户项下的全部应还款项"
            "均已结清，账户无剩余欠款，{lender}对该账户不再享有任何债权。"
        ),
        "national_id": "身份证号（脱敏）",
        "settled_on": "结清日期",
        "total_paid": "累计还款",
        "total_waived": "减免金额",
        "balance_now": "剩余欠款",
        "cert_waived": "上述结清含{lender}同意减免的款项 {waived}，该部分无需偿还。",
        "cert_closing": "特此证明。",
        "h_credit": "关于您的个人信用报告（征信）",
        "credit_report": (
            "{lender}将在下一次定期报送时，向中国人民银行征信中心报送该账户的结清状态，"
            "通常在结清后一个月左右；账户状态以您信用报告中的显示为准。",
            "该账户此前如有逾期，已如实报送的逾期记录不会因结清而删除。依照《征信业管理条例》，"
            "不良信息自不良行为或者事件终止之日起保存 5 年，期满后删除。",
            "您可以免费查询本人信用报告，每年有两次免费机会：可在中国人民银行征信中心网站"
            "（www.pbccrc.org.cn）在线查询，也可以到征信中心的分支机构或部分商业银行网点，"
            "通过柜台或自助查询机查询。",
            "如您发现信用报告中的信息有误，可以向{lender}（电话 {phone}）或征信中心提出异议。"
            "收到异议的一方应当自收到之日起 20 日内核查处理，并将结果书面答复您。",
        ),
        "h_cert_verify": "核对本证明",
        "cert_verify": (
            "任何人都可以核对本证明的真伪：扫描右侧二维码或访问 {verify_url}，"
            "核对编号 {reference} 和下方的证明指纹是否与网页显示一致。"
            "如有疑问，请拨打 {phone}。"
        ),
        "fingerprint": "证明指纹（SHA-256）",
        "cert_qr_caption": "扫码核对",
        "cert_footer": "{lender} · 结清证明 · 编号 {reference}",
        # The borrower's account record (账户往来记录).
        "record_title": "账户往来记录",
        "record_intro": (
            "本记录列出我们在您的{product}账户（账户号 {account}）上记录的全部往来："
            "还款、费用、减免，我们与您的每一次联系，以及还款承诺、还款安排、投诉、争议和暂停事项。"
        ),
        "record_private": "本记录含有您的个人信息，请妥善保管。",
        "h_record_account": "一、账户概况",
        "figures_as_of": "金额截至 {generated}。",
        "stage": "当前阶段",
        "h_events": "二、往来明细",
        "events_note": "时间为您当地时间，按先后顺序排列，共 {count} 条。",
        "col_time": "时间",
        "col_kind": "类型",
        "col_title": "事项",
        "col_detail": "说明",
        "col_amount": "金额",
        "no_events": "该账户暂无往来记录。",
        "kind_payment": "还款",
        "kind_charge": "费用",
        "kind_waiver": "减免",
        "kind_message": "消息",
        "kind_call": "电话",
        "kind_visit": "上门",
        "kind_letter": "信函",
        "kind_promise": "还款承诺",
        "kind_arrangement": "还款安排",
        "kind_complaint": "投诉",
        "kind_dispute": "争议",
        "kind_hold": "暂停",
        "h_questions": "三、如有疑问",
        "questions": (
            "如您对本记录中的任何内容有疑问，认为某项金额或记录有误，或希望投诉，"
            "请拨打客服电话 {phone}，或登录您下载本记录的借款人服务平台提交。"
            "我们会登记您的问题，并告诉您处理结果。"
        ),
        "record_footer": "{lender} · 账户往来记录 · 编号 {reference}",
        "page_of": "第 {page} 页 / 共 {pages} 页",
    },
    "en": {
        "notice_title": "Notice of a home verification visit",
        "service_line": "Customer service {phone}",
        "colon": ": ",
        "reference": "Ref.",
        "date": "Date",
        "address": "Address",
        "addressee": "{borrower}",
        "salutation": "Dear {borrower},",
        "intro": (
            "Your {product} with {lender} (account {account}) was {dpd} days overdue on {issued}: "
            "the overdue amount was {overdue} and the total outstanding balance {outstanding} "
            "(including amounts not yet due). We would like to visit you to understand your "
            "circumstances and to agree with you a way of repaying that works for you. "
            "The arrangements are as follows."
        ),
        "product": "Product",
        "account": "Account",
        "dpd": "Days overdue",
        "dpd_value": "{dpd}",
        "overdue": "Overdue amount",
        "outstanding": "Outstanding balance",
        "h_purpose": "1. Purpose of the visit",
        "h_when": "2. Date and time",
        "when": "<strong>{weekday} {visit_date}, {start}–{end}</strong>",
        "hours": (
            "We only visit between {hours_start} and {hours_end}. If this time does not suit "
            "you, you can choose another one (see 5)."
        ),
        "h_visitors": "3. Who will visit",
        "visitors_intro": "The following staff will visit. They will show you their credentials "
        "without being asked:",
        "visitor_name": "Name",
        "visitor_credential": "Credential no.",
        "visitor_organisation": "Organisation",
        "h_verify": "4. How to check who they are",
        "verify": (
            "Before you open the door, you can check each visitor: scan the QR code on their "
            "credential with your phone, enter the credential number at {verify_url}, or call "
            "us on {phone}. If you cannot verify a visitor, you may refuse to receive them."
        ),
        "no_cash": (
            "Please pay only through our official channels: never transfer money to a person's "
            "own account and never hand cash to anyone."
        ),
        "h_respond": "5. Please tell us by {respond_by} what you would like to do",
        "respond_intro": "Scan the QR code or go to {respond_url} to:",
        "confirm": "<strong>Confirm</strong>: receive the visit at the time above;",
        "reschedule": (
            "<strong>Reschedule</strong>: choose another date, up to {reschedule_until}, or "
            "another time (between {hours_start} and {hours_end});"
        ),
        "decline": (
            "<strong>Decline</strong>: the visit will then not be made, and we will keep in "
            "touch by phone or text message instead;"
        ),
        "pay": (
            "<strong>Pay instead</strong>: pay at {pay_url}. Once the overdue amount of "
            "{overdue} is paid, the visit is cancelled."
        ),
        "no_reply": (
            "If we do not hear from you, the staff named above will visit at the time above. "
            "If you have already paid the overdue amount, the visit has been cancelled and you "
            "may disregard this notice."
        ),
        "qr_caption": "Scan to reply:<br>confirm, reschedule<br>or decline",
        "h_commitment": "6. Our commitment",
        "commitment": (
            "Our staff follow the law and our code of conduct and will treat you with courtesy. "
            "They will not discuss your account with your family, neighbours, colleagues or "
            "anyone other than you. If you have any question about this notice or about our "
            "staff, please call us on {phone}."
        ),
        "closing": "Yours sincerely,",
        "seal": "",
        "notice_footer": "{lender} · Home visit notice · Ref. {reference}",
        "case_title": "Visit case file",
        "internal": "Internal: for the field team only. Keep it safe and show it to no one but "
        "the borrower.",
        "generated": "Generated",
        "h_borrower": "1. Borrower and account",
        "borrower": "Borrower",
        "phone_masked": "Phone (masked)",
        "opened_on": "Opened on",
        "principal": "Principal lent",
        "bucket": "Bucket",
        "h_breakdown": "2. Overdue breakdown",
        "seq": "No.",
        "due_date": "Due",
        "col_principal": "Principal",
        "col_interest": "Interest",
        "col_fee": "Fees",
        "col_late_fee": "Late fee",
        "col_penalty": "Penalty int.",
        "col_total": "Total",
        "days_overdue": "Days overdue",
        "breakdown_total": "Total (the overdue amount)",
        "h_statement": "3. Statement of account",
        "posted_on": "Date",
        "description": "Description",
        "debit": "Debit",
        "credit": "Credit",
        "balance": "Balance",
        "no_entries": "No entries.",
        "h_basis": "4. Contractual and legal basis",
        "h_reasons": "5. Why a visit",
        "h_notice": "6. The notice",
        "notice_reference": "Notice ref.",
        "notice_issued": "Issued on",
        "notice_when": "Visit",
        "notice_visitors": "Visitors",
        "notice_respond_by": "Reply by",
        "notice_attached": "The notice as the borrower received it is attached.",
        "no_notice": "No notice has been sent: no visit may be made before it is.",
        "h_options": "7. Repayment options you may offer (within your authority)",
        "no_options": "None: ask the borrower to contact us through the official channels.",
        "h_conduct": "8. Conduct on the visit",
        "conduct": (
            "Visit only in the window the notice gives, between {hours_start} and {hours_end}; if the borrower declined or rescheduled, follow their reply.",
            "On arrival, show your credential unasked and invite the borrower to scan it.",
            "Discuss the account only once the borrower's identity is verified, and with no one else.",
            "Be courteous: no threats, no intimidation, no insults, no false or exaggerated statements about legal consequences.",
            "Take no cash and no payment into a personal account; payments go through the official channels only.",
            "Leave at once when the borrower asks you to; record check-in, verification, outcome and notes truthfully.",
        ),
        "signature": "Field agent's signature",
        "appendix": "Attachment: the notice as sent",
        "case_footer": "Visit case file · Ref. {reference} · Internal",
        "cert_title": "Settlement certificate",
        "cert_statement": (
            "This is to certify that as of {settled}, {borrower} (national ID {national_id}) has "
            "repaid all amounts owed under the {product} opened with {lender} on {opened} "
            "(account {account}, principal {principal}). No balance remains on the account, and "
            "{lender} has no further claim under it."
        ),
        "national_id": "National ID (masked)",
        "settled_on": "Settled on",
        "total_paid": "Total paid",
        "total_waived": "Waived",
        "balance_now": "Balance owed",
        "cert_waived": (
            "The settlement includes {waived} that {lender} agreed to waive; it does not need to "
            "be repaid."
        ),
        "cert_closing": "",
        "h_credit": "About your credit report",
        "credit_report": (
            "{lender} will report the account as settled to the Credit Reference Center of the "
            "People's Bank of China in its next regular report, usually within about a month of "
            "settlement. Your credit report shows the account's status as the Center records it.",
            "If the account was ever overdue, overdue history that was correctly reported is not "
            "removed because the account is settled. Under the Regulation on the Administration "
            "of the Credit Reporting Industry, negative information is kept for 5 years from the "
            "day the event ended, and then deleted.",
            "You can check your credit report free of charge twice a year: online on the "
            "Center's website (www.pbccrc.org.cn), or at one of the Center's branches or a "
            "participating bank branch, at the counter or a self-service query machine.",
            "If you find an entry in your credit report that is wrong, you may raise an objection "
            "with {lender} (on {phone}) or with the Center. Whoever receives it must check it and "
            "answer you in writing within 20 days of receiving it.",
        ),
        "h_cert_verify": "Checking this certificate",
        "cert_verify": (
            "Anyone can check that this certificate is genuine: scan the QR code or go to "
            "{verify_url}, and compare the reference {reference} and the fingerprint below with "
            "what the page shows. If in doubt, call {phone}."
        ),
        "fingerprint": "Fingerprint (SHA-256)",
        "cert_qr_caption": "Scan to check",
        "cert_footer": "{lender} · Settlement certificate · Ref. {reference}",
        "record_title": "Your account record",
        "record_intro": (
            "This record lists everything we have recorded on your {product} (account {account}): "
            "payments, charges and waivers, every time we contacted you, and any promises to pay, "
            "repayment arrangements, complaints, disputes and holds."
        ),
        "record_private": "This record contains your personal information: please keep it safe.",
        "h_record_account": "1. Your account",
        "figures_as_of": "Figures as at {generated}.",
        "stage": "Current stage",
        "h_events": "2. What happened on the account",
        "events_note": "Times are your local time, oldest first; {count} entries.",
        "col_time": "Date and time",
        "col_kind": "Type",
        "col_title": "Item",
        "col_detail": "Details",
        "col_amount": "Amount",
        "no_events": "Nothing has been recorded on this account yet.",
        "kind_payment": "Payment",
        "kind_charge": "Charge",
        "kind_waiver": "Waiver",
        "kind_message": "Message",
        "kind_call": "Call",
        "kind_visit": "Visit",
        "kind_letter": "Letter",
        "kind_promise": "Promise to pay",
        "kind_arrangement": "Arrangement",
        "kind_complaint": "Complaint",
        "kind_dispute": "Dispute",
        "kind_hold": "Hold",
        "h_questions": "3. Questions and complaints",
        "questions": (
            "If you have a question about anything in this record, think an amount or an entry is "
            "wrong, or wish to complain, call us on {phone} or write to us through the online "
            "portal where you downloaded this record. We will log your question and tell you the "
            "outcome."
        ),
        "record_footer": "{lender} · Account record · Ref. {reference}",
        "page_of": "Page {page} of {pages}",
    },
}
