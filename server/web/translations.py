"""The dashboard in 繁體中文: each English text of the templates and pages, and its translation.

The words follow the desktop app's (assets/translations/hivemind_zh_TW.ts): 工作 is a job,
任務 a task, 節點 a node. tests/web/test_pages.py fails when a text in a template has no
translation here.
"""

ZH_TW: dict[str, str] = {
    # The frame of every page.
    "Pages": "頁面",
    "Network": "網路",
    "My jobs": "我的工作",
    "My nodes": "我的節點",
    "Admin": "管理",
    "admin": "管理員",
    "Sign out": "登出",
    # Signing in.
    "Sign in": "登入",
    "Sign in to HiveMind": "登入 HiveMind",
    "Use the account of the desktop app or the hivemind command.": (
        "請使用桌面應用程式或 hivemind 指令的帳號。"
    ),
    "Username": "使用者名稱",
    "Password": "密碼",
    "wrong username or password": "使用者名稱或密碼錯誤",
    # Errors and refusals.
    "Not found": "找不到",
    "Not allowed": "沒有權限",
    "Too many attempts": "嘗試次數過多",
    "Something went wrong": "發生錯誤",
    "That did not work": "無法完成",
    "Back to the network": "回到網路總覽",
    "no such page": "沒有這個頁面",
    "this page does not take that method": "這個頁面不接受這種請求",
    "internal error (logged on the server)": "內部錯誤（已記錄在伺服器上）",
    "this page needs the admin role": "這個頁面需要管理員權限",
    "Form refused": "表單遭拒",
    "This form did not come from a page of this dashboard, or it is out of date. Nothing was"
    " changed. Reload the page and try again.": (
        "這份表單不是來自本儀表板的頁面，或已經過期。沒有任何變更。請重新載入頁面後再試一次。"
    ),
    # Time.
    "now": "現在",
    "%(n)s s ago": "%(n)s 秒前",
    "%(n)s min ago": "%(n)s 分鐘前",
    "%(n)s h ago": "%(n)s 小時前",
    "%(n)s days ago": "%(n)s 天前",
    # States.
    "pending": "等待中",
    "leased": "已派發",
    "running": "執行中",
    "done": "已完成",
    "failed": "失敗",
    "cancelled": "已取消",
    "expired": "已逾時",
    "busy": "忙碌",
    "idle": "閒置",
    "paused": "已暫停",
    "offline": "離線",
    "online": "線上",
    "banned": "已封鎖",
    # Result checks.
    "verified": "已驗證",
    "unverified": "未驗證",
    "checking": "驗證中",
    "waiting for a quorum": "等待多數一致",
    "agreed": "結果一致",
    "disagreed": "結果不一致",
    "no quorum": "未達多數",
    "discarded": "已作廢",
    # The network page.
    "Nodes online": "線上節點",
    "Offered now": "目前提供",
    "%(n)d cores": "%(n)d 個核心",
    "%(memory)s memory, %(gpus)d GPUs": "記憶體 %(memory)s，GPU %(gpus)d 個",
    "Jobs running": "執行中的工作",
    "%(n)d waiting to start": "%(n)d 個等待開始",
    "Queue": "佇列",
    "%(n)d tasks": "%(n)d 個任務",
    "%(n)d running, %(done)d done so far": "%(n)d 個執行中，至今完成 %(done)d 個",
    "Tasks finished per second": "每秒完成的任務",
    "Tasks waiting for a node": "等待節點的任務",
    "Nodes by state": "各狀態的節點",
    "Updated %(when)s; refreshes by itself.": "更新於 %(when)s；會自動重新整理。",
    # Jobs.
    "Submit jobs with the desktop app or with hivemind job submit; watch them here.": (
        "請用桌面應用程式或 hivemind job submit 提交工作，並在這裡查看進度。"
    ),
    "Jobs": "工作",
    "Job": "工作",
    "Owner": "擁有者",
    "State": "狀態",
    "Progress": "進度",
    "Tasks": "任務",
    "Cost (CPT)": "費用（CPT）",
    "Submitted": "提交時間",
    "No jobs yet.": "還沒有工作。",
    "First page": "第一頁",
    "Older": "較舊",
    "%(done)d of %(total)d tasks done": "已完成 %(done)d／%(total)d 個任務",
    "Cancel job": "取消工作",
    "Cancel this job? Its running tasks stop and what is left of its budget goes back.": (
        "要取消這個工作嗎？執行中的任務會停止，剩餘的預算會退還。"
    ),
    "Job cancelled; %(cpt)s CPT of its budget went back to its owner.": (
        "工作已取消；預算中的 %(cpt)s CPT 已退還給擁有者。"
    ),
    "Runtime": "執行環境",
    "Command": "指令",
    "Each task": "每個任務",
    "cores: %(n)d": "核心：%(n)d",
    "memory: %(n)d MB": "記憶體：%(n)d MB",
    "GPUs: %(n)d": "GPU：%(n)d",
    "time limit: %(n)d s": "時間上限：%(n)d 秒",
    "Replicas": "副本數",
    "compared by": "比對指令",
    "%(n)d running": "%(n)d 個執行中",
    "%(n)d waiting": "%(n)d 個等待中",
    "%(n)d failed": "%(n)d 個失敗",
    "%(n)d cancelled": "%(n)d 個已取消",
    "Cost so far %(cost)s CPT of at most %(max)s CPT": (
        "目前費用 %(cost)s CPT（上限 %(max)s CPT）"
    ),
    "%(cpt)s CPT refunded": "已退還 %(cpt)s CPT",
    "ended %(when)s": "結束於 %(when)s",
    "Task": "任務",
    "Attempts": "嘗試",
    "Result check": "結果驗證",
    "Input": "輸入",
    "Result": "結果",
    "Download": "下載",
    "Earlier tasks": "前面的任務",
    "Later tasks": "後面的任務",
    "Tasks %(first)d to %(last)d of %(total)d": "第 %(first)d 到 %(last)d 個任務，共 %(total)d 個",
    "task %(n)d": "任務 %(n)d",
    "Cost": "費用",
    "Error": "錯誤",
    "Node": "節點",
    "Leased": "派發時間",
    "Run time": "執行時間",
    "Paid (CPT)": "支付（CPT）",
    "Note": "備註",
    "comparison": "比對",
    "exit code %(code)d": "結束代碼 %(code)d",
    "No node has run this task yet.": "還沒有節點執行過這個任務。",
    "Log": "記錄",
    "as text": "純文字",
    "No log yet.": "目前還沒有記錄。",
    # My nodes.
    "Running": "執行中",
    "Cores": "核心",
    "Memory": "記憶體",
    "Trust": "信任",
    "Last seen": "最後上線",
    "trusted": "受信任",
    "earning trust": "累積信任中",
    "%(valid)d agreed, %(invalid)d disagreed, %(errors)d errors": (
        "%(valid)d 次一致、%(invalid)d 次不一致、%(errors)d 次錯誤"
    ),
    "No nodes yet: share this computer from the desktop app, or run hivemind worker run.": (
        "還沒有節點：請在桌面應用程式中分享這台電腦，或執行 hivemind worker run。"
    ),
    "Earnings": "收益",
    "Today": "今天",
    "Last 7 days": "最近 7 天",
    "Last 30 days": "最近 30 天",
    "CPT earned per day": "每日賺得的 CPT",
    "Recent payouts": "最近收款",
    "When": "時間",
    "Core-seconds": "核心秒數",
    "Bonus (CPT)": "加成（CPT）",
    "No payouts yet.": "還沒有收款。",
    # Admin.
    "Admin pages": "管理頁面",
    "Nodes": "節點",
    "Users": "使用者",
    "Ledger": "帳本",
    "Runtimes": "執行環境",
    "%(n)d agreed": "%(n)d 次一致",
    "Error rate": "錯誤率",
    "Ban": "封鎖",
    "Unban": "解除封鎖",
    "reason": "原因",
    "Ban this node? Its leases go to other nodes and its unverified results are discarded.": (
        "要封鎖這個節點嗎？它的任務會交給其他節點，未驗證的結果會作廢。"
    ),
    "Node %(name)s is banned.": "節點 %(name)s 已封鎖。",
    "Node %(name)s may work again.": "節點 %(name)s 可以重新工作。",
    "No nodes yet.": "還沒有節點。",
    "User": "使用者",
    "Role": "角色",
    "Balance (CPT)": "餘額（CPT）",
    "Since": "建立時間",
    "Grant CPT": "發放 CPT",
    "amount": "金額",
    "memo": "備註",
    "Grant": "發放",
    "Granted %(amount)s CPT to %(name)s; balance now %(balance)s CPT.": (
        "已發放 %(amount)s CPT 給 %(name)s；目前餘額 %(balance)s CPT。"
    ),
    "Previous": "上一頁",
    "Next": "下一頁",
    "Audit": "稽核",
    "balanced": "收支平衡",
    "problems": "有問題",
    "Granted in all": "累計發放",
    "Held by accounts": "帳戶持有",
    "In escrow for jobs": "工作託管中",
    "Clawback shortfalls": "追回不足",
    "Results discarded after their node was caught or banned, whose pay could not all be"
    " taken back: the owner's balance was too small.": (
        "節點被抓到作弊或遭封鎖後作廢的結果中，因擁有者餘額不足而無法全數追回的報酬。"
    ),
    "Taken back": "已追回",
    "Shortfall": "不足額",
    "None: every clawback took back all it should.": "沒有：每筆追回都已全數收回。",
    "Approve or re-pin a runtime with hivemind-server admin runtime add.": (
        "請用 hivemind-server admin runtime add 核准或重新固定執行環境。"
    ),
    "Image": "映像",
    "Image id": "映像 ID",
    "Archive": "封存檔",
}
