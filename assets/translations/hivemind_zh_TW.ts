<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_TW" sourcelanguage="en">
<context>
    <name>AccountTab</name>
    <message>
        <source>Server</source>
        <translation>伺服器</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>位址</translation>
    </message>
    <message>
        <source>Use TLS (encrypted connection)</source>
        <translation>使用 TLS（加密連線）</translation>
    </message>
    <message>
        <source>CA certificate</source>
        <translation>CA 憑證</translation>
    </message>
    <message>
        <source>the system&apos;s certificates</source>
        <translation>系統內建的憑證</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>選擇…</translation>
    </message>
    <message>
        <source>Use this server</source>
        <translation>使用這個伺服器</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>帳號</translation>
    </message>
    <message>
        <source>Username</source>
        <translation>使用者名稱</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>密碼</translation>
    </message>
    <message>
        <source>Log in</source>
        <translation>登入</translation>
    </message>
    <message>
        <source>Create account</source>
        <translation>建立帳號</translation>
    </message>
    <message>
        <source>Log out</source>
        <translation>登出</translation>
    </message>
    <message>
        <source>Preferences</source>
        <translation>偏好設定</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>語言</translation>
    </message>
    <message>
        <source>Start HiveMind when I log in</source>
        <translation>登入電腦時自動啟動 HiveMind</translation>
    </message>
    <message>
        <source>Cache folder</source>
        <translation>快取資料夾</translation>
    </message>
    <message>
        <source>Log</source>
        <translation>記錄</translation>
    </message>
    <message>
        <source>Signed in as %1 on %2</source>
        <translation>已以 %1 的身分登入 %2</translation>
    </message>
    <message>
        <source>Not signed in</source>
        <translation>尚未登入</translation>
    </message>
    <message>
        <source>Enter a username and a password.</source>
        <translation>請輸入使用者名稱和密碼。</translation>
    </message>
    <message>
        <source>Choose a CA certificate</source>
        <translation>選擇 CA 憑證</translation>
    </message>
    <message>
        <source>Certificates (*.pem *.crt)</source>
        <translation>憑證檔 (*.pem *.crt)</translation>
    </message>
    <message>
        <source>Start at login not changed: %1</source>
        <translation>無法變更開機啟動設定：%1</translation>
    </message>
    <message>
        <source>Choose the cache folder</source>
        <translation>選擇快取資料夾</translation>
    </message>
    <message>
        <source>Cache folder not changed: %1</source>
        <translation>無法變更快取資料夾：%1</translation>
    </message>
</context>
<context>
    <name>Activity</name>
    <message>
        <source>Started task %2 of job %1</source>
        <translation>開始執行工作 %1 的任務 %2</translation>
    </message>
    <message>
        <source>Finished task %2 of job %1</source>
        <translation>完成工作 %1 的任務 %2</translation>
    </message>
    <message>
        <source>Task %2 of job %1 failed: %3</source>
        <translation>工作 %1 的任務 %2 失敗：%3</translation>
    </message>
    <message>
        <source>Earned %4 for task %2 of job %1</source>
        <translation>工作 %1 的任務 %2 賺得 %4</translation>
    </message>
    <message>
        <source>Paused: %3</source>
        <translation>已暫停：%3</translation>
    </message>
    <message>
        <source>Resumed sharing</source>
        <translation>已恢復分享</translation>
    </message>
    <message>
        <source>Problem: %3</source>
        <translation>發生問題：%3</translation>
    </message>
    <message>
        <source>This computer joined the network as node %3</source>
        <translation>這台電腦已加入網路，節點編號 %3</translation>
    </message>
    <message>
        <source>Sharing turned on</source>
        <translation>已開啟分享</translation>
    </message>
    <message>
        <source>Sharing turned off</source>
        <translation>已關閉分享</translation>
    </message>
    <message>
        <source>Signed in as %3</source>
        <translation>已以 %3 的身分登入</translation>
    </message>
    <message>
        <source>Signed out</source>
        <translation>已登出</translation>
    </message>
    <message>
        <source>Submitted job %1</source>
        <translation>已提交工作 %1</translation>
    </message>
    <message>
        <source>Your job %1 is %3</source>
        <translation>你的工作 %1 %3</translation>
    </message>
    <message>
        <source>Results of job %1 saved to %3</source>
        <translation>工作 %1 的結果已存到 %3</translation>
    </message>
    <message>
        <source>Compared results of task %2 of job %1: equivalent</source>
        <translation>已比對工作 %1 中任務 %2 的結果：相符</translation>
    </message>
    <message>
        <source>Compared results of task %2 of job %1: different</source>
        <translation>已比對工作 %1 中任務 %2 的結果：不相符</translation>
    </message>
    <message>
        <source>Compared results of task %2 of job %1</source>
        <translation>已比對工作 %1 中任務 %2 的結果</translation>
    </message>
    <message>
        <source>Comparing results of task %2 of job %1…</source>
        <translation>正在比對工作 %1 中任務 %2 的結果…</translation>
    </message>
    <message>
        <source>Comparing results of task %2 of job %1 failed: %3</source>
        <translation>比對工作 %1 中任務 %2 的結果失敗：%3</translation>
    </message>
    <message>
        <source>Earned %4 for comparing results of task %2 of job %1</source>
        <translation>比對工作 %1 中任務 %2 的結果，賺得 %4</translation>
    </message>
    <message>
        <source>Earned %1 from %2 and %3</source>
        <translation>從 %2和 %3賺得 %1</translation>
    </message>
</context>
<context>
    <name>CostEstimate</name>
    <message>
        <source>No estimate: %1</source>
        <translation>無法估算：%1</translation>
    </message>
    <message>
        <source>Holds up to %1 until the job ends: the worst case, where every task, replica and comparison uses its whole time limit. What is not spent is refunded.</source>
        <translation>工作結束前最多保留 %1：這是每個任務、副本與比對都用滿時間上限的最壞情況。未花用的部分會退還。</translation>
    </message>
    <message>
        <source>Paid from your starter credit: the job runs only on capacity no paid job wants.</source>
        <translation>由新手額度支付：這個工作只會在沒有付費工作需要的算力上執行。</translation>
    </message>
    <message>
        <source>Neither your CPT nor your starter credit covers it: the server will refuse.</source>
        <translation>你的 CPT 和新手額度都不足以支付，伺服器會拒絕。</translation>
    </message>
    <message>
        <source>The maximum cost is not a valid amount.</source>
        <translation>費用上限不是有效的金額。</translation>
    </message>
    <message>
        <source>Your maximum is below that: the server will refuse.</source>
        <translation>你設定的上限低於此金額，伺服器會拒絕。</translation>
    </message>
</context>
<context>
    <name>Counted</name>
    <message numerus="yes">
        <source>Sharing: %n task(s) running</source>
        <translation>
            <numerusform>分享中：%n 個任務執行中</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Earned %1 from %n task(s)</source>
        <translation>
            <numerusform>從 %n 個任務賺得 %1</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Earned %1 from %n comparison(s)</source>
        <translation>
            <numerusform>從 %n 次比對賺得 %1</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n task(s)</source>
        <translation>
            <numerusform>%n 個任務</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n comparison(s)</source>
        <translation>
            <numerusform>%n 次比對</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>EarningsTab</name>
    <message>
        <source>Balance</source>
        <translation>餘額</translation>
    </message>
    <message>
        <source>Today</source>
        <translation>今天</translation>
    </message>
    <message>
        <source>Last 7 days</source>
        <translation>最近 7 天</translation>
    </message>
    <message>
        <source>Last 30 days</source>
        <translation>最近 30 天</translation>
    </message>
    <message>
        <source>Earnings per day (UTC)</source>
        <translation>每日收益（UTC）</translation>
    </message>
    <message>
        <source>Payouts</source>
        <translation>收款紀錄</translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation>匯出 CSV…</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>重新整理</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>時間</translation>
    </message>
    <message>
        <source>Job</source>
        <translation>工作</translation>
    </message>
    <message>
        <source>Core-seconds</source>
        <translation>核心秒數</translation>
    </message>
    <message>
        <source>Base</source>
        <translation>基本報酬</translation>
    </message>
    <message>
        <source>Bonuses</source>
        <translation>加成</translation>
    </message>
    <message>
        <source>Amount</source>
        <translation>金額</translation>
    </message>
    <message>
        <source>Held for your unfinished jobs: %1</source>
        <translation>為未完成工作保留的金額：%1</translation>
    </message>
    <message>
        <source>Starter credit: %1 (pays only for your own jobs; cannot be sent)</source>
        <translation>新手額度：%1（只能支付你自己的工作，無法轉給他人）</translation>
    </message>
    <message>
        <source>No payouts yet: share this computer to earn CPT.</source>
        <translation>還沒有收款：分享這台電腦即可賺取 CPT。</translation>
    </message>
    <message>
        <source>Export payouts</source>
        <translation>匯出收款紀錄</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>CSV 檔案 (*.csv)</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>已儲存 %1</translation>
    </message>
</context>
<context>
    <name>FirstRunWizard</name>
    <message>
        <source>Welcome to HiveMind</source>
        <translation>歡迎使用 HiveMind</translation>
    </message>
    <message>
        <source>Your HiveMind network</source>
        <translation>你的 HiveMind 網路</translation>
    </message>
    <message>
        <source>HiveMind lends this computer&apos;s idle power to a network and pays you in CPT. Which server runs your network?</source>
        <translation>HiveMind 會把這台電腦閒置的運算能力借給網路使用，並以 CPT 支付報酬。你的網路由哪個伺服器運作？</translation>
    </message>
    <message>
        <source>Server address</source>
        <translation>伺服器位址</translation>
    </message>
    <message>
        <source>Use TLS (encrypted connection)</source>
        <translation>使用 TLS（加密連線）</translation>
    </message>
    <message>
        <source>Your account</source>
        <translation>你的帳號</translation>
    </message>
    <message>
        <source>Sign in, or create an account. You can also do this later.</source>
        <translation>請登入或建立帳號，也可以稍後再設定。</translation>
    </message>
    <message>
        <source>Username</source>
        <translation>使用者名稱</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>密碼</translation>
    </message>
    <message>
        <source>Log in</source>
        <translation>登入</translation>
    </message>
    <message>
        <source>Create account</source>
        <translation>建立帳號</translation>
    </message>
    <message>
        <source>How much to share</source>
        <translation>要分享多少</translation>
    </message>
    <message>
        <source>HiveMind only uses what you allow. You can change this any time on the Resources tab.</source>
        <translation>HiveMind 只會使用你允許的資源，隨時可以在「資源」分頁中修改。</translation>
    </message>
    <message>
        <source>A little: %1 cores, %2 GB memory</source>
        <translation>少量：%1 個核心、%2 GB 記憶體</translation>
    </message>
    <message>
        <source>Balanced: %1 cores, %2 GB memory</source>
        <translation>適中：%1 個核心、%2 GB 記憶體</translation>
    </message>
    <message>
        <source>Generous: %1 cores, %2 GB memory</source>
        <translation>大量：%1 個核心、%2 GB 記憶體</translation>
    </message>
    <message>
        <source>Start sharing now</source>
        <translation>立即開始分享</translation>
    </message>
    <message>
        <source>Enter a username and a password.</source>
        <translation>請輸入使用者名稱和密碼。</translation>
    </message>
    <message>
        <source>Contacting the server…</source>
        <translation>正在連線到伺服器…</translation>
    </message>
    <message>
        <source>Signed in as %1.</source>
        <translation>已以 %1 的身分登入。</translation>
    </message>
</context>
<context>
    <name>GpuReason</name>
    <message>
        <source>no NVIDIA container runtime is installed</source>
        <translation>未安裝 NVIDIA 容器執行環境</translation>
    </message>
    <message>
        <source>Docker is not running</source>
        <translation>Docker 未在執行</translation>
    </message>
</context>
<context>
    <name>JobSettings</name>
    <message>
        <source>Compare: %1 (%2 s)</source>
        <translation>比對指令：%1（每次比對上限 %2 秒）</translation>
    </message>
    <message>
        <source>Compare: %1 (the server&apos;s default time limit)</source>
        <translation>比對指令：%1（時間上限依伺服器預設）</translation>
    </message>
</context>
<context>
    <name>JobState</name>
    <message>
        <source>waiting</source>
        <translation>等待中</translation>
    </message>
    <message>
        <source>running</source>
        <translation>執行中</translation>
    </message>
    <message>
        <source>done</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失敗</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>已取消</translation>
    </message>
</context>
<context>
    <name>JobsPanel</name>
    <message>
        <source>Your jobs</source>
        <translation>你的工作</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名稱</translation>
    </message>
    <message>
        <source>Job</source>
        <translation>工作</translation>
    </message>
    <message>
        <source>State</source>
        <translation>狀態</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>進度</translation>
    </message>
    <message>
        <source>Cost</source>
        <translation>費用</translation>
    </message>
    <message>
        <source>Submitted</source>
        <translation>提交時間</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>重新整理</translation>
    </message>
    <message>
        <source>Open logs</source>
        <translation>查看記錄</translation>
    </message>
    <message>
        <source>Download results…</source>
        <translation>下載結果…</translation>
    </message>
    <message>
        <source>Cancel job</source>
        <translation>取消工作</translation>
    </message>
    <message>
        <source>%1 of at most %2</source>
        <translation>%1（上限 %2）</translation>
    </message>
    <message>
        <source>%1 of %2 tasks</source>
        <translation>%1／%2 個任務</translation>
    </message>
    <message>
        <source>Save results to</source>
        <translation>結果儲存位置</translation>
    </message>
    <message>
        <source>Results of %1 saved in %2</source>
        <translation>%1 的結果已儲存在 %2</translation>
    </message>
    <message>
        <source>Results of %1 not saved: %2</source>
        <translation>%1 的結果未能儲存：%2</translation>
    </message>
</context>
<context>
    <name>LogDialog</name>
    <message>
        <source>Logs of job %1</source>
        <translation>工作 %1 的記錄</translation>
    </message>
    <message>
        <source>No log yet.</source>
        <translation>目前還沒有記錄。</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>HiveMind</source>
        <translation>HiveMind</translation>
    </message>
    <message>
        <source>Overview</source>
        <translation>總覽</translation>
    </message>
    <message>
        <source>Resources</source>
        <translation>資源</translation>
    </message>
    <message>
        <source>Earnings</source>
        <translation>收益</translation>
    </message>
    <message>
        <source>Submit</source>
        <translation>提交</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>帳號</translation>
    </message>
    <message>
        <source>This desktop has no system tray, so HiveMind is controlled from this window. Sharing goes on while the window is open, and in the background if you choose so when closing it.</source>
        <translation>這個桌面環境沒有系統匣，因此請在這個視窗中控制 HiveMind。視窗開著時會持續分享；關閉視窗時，你可以選擇讓它在背景繼續執行。</translation>
    </message>
    <message>
        <source>Share resources</source>
        <translation>分享資源</translation>
    </message>
    <message>
        <source>Keep HiveMind running?</source>
        <translation>要讓 HiveMind 繼續執行嗎？</translation>
    </message>
    <message>
        <source>Keep sharing in the background after closing this window?</source>
        <translation>關閉這個視窗後，要在背景繼續分享嗎？</translation>
    </message>
    <message>
        <source>There is no system tray on this desktop. Start HiveMind again to bring this window back.</source>
        <translation>這個桌面環境沒有系統匣。再次啟動 HiveMind 即可叫回這個視窗。</translation>
    </message>
    <message>
        <source>Keep running</source>
        <translation>繼續執行</translation>
    </message>
    <message>
        <source>Quit HiveMind</source>
        <translation>結束 HiveMind</translation>
    </message>
</context>
<context>
    <name>OverviewTab</name>
    <message>
        <source>Processor</source>
        <translation>處理器</translation>
    </message>
    <message>
        <source>Memory</source>
        <translation>記憶體</translation>
    </message>
    <message>
        <source>This computer</source>
        <translation>這台電腦</translation>
    </message>
    <message>
        <source>HiveMind</source>
        <translation>HiveMind</translation>
    </message>
    <message>
        <source>Pause for 1 hour</source>
        <translation>暫停 1 小時</translation>
    </message>
    <message>
        <source>Running tasks</source>
        <translation>執行中的任務</translation>
    </message>
    <message>
        <source>Recent events</source>
        <translation>最近動態</translation>
    </message>
    <message>
        <source>No task is running on this computer right now.</source>
        <translation>這台電腦目前沒有執行任何任務。</translation>
    </message>
    <message>
        <source>Job</source>
        <translation>工作</translation>
    </message>
    <message>
        <source>Task</source>
        <translation>任務</translation>
    </message>
    <message>
        <source>Elapsed</source>
        <translation>已執行</translation>
    </message>
    <message>
        <source>Deadline</source>
        <translation>期限</translation>
    </message>
    <message>
        <source>Limits</source>
        <translation>限制</translation>
    </message>
    <message>
        <source>Stop sharing</source>
        <translation>停止分享</translation>
    </message>
    <message>
        <source>Start sharing</source>
        <translation>開始分享</translation>
    </message>
    <message>
        <source>Resume sharing now</source>
        <translation>立即恢復分享</translation>
    </message>
    <message numerus="yes">
        <source>%n core(s), %1 MB</source>
        <translation>
            <numerusform>%n 個核心、%1 MB</numerusform>
        </translation>
    </message>
    <message>
        <source>paused</source>
        <translation>已暫停</translation>
    </message>
    <message>
        <source>%1 (comparing)</source>
        <translation>%1（比對中）</translation>
    </message>
    <message>
        <source>Comparing two results of this task, to tell whether they agree</source>
        <translation>正在比對這個任務的兩份結果，判斷是否相符</translation>
    </message>
    <message>
        <source>in %1</source>
        <translation>剩 %1</translation>
    </message>
</context>
<context>
    <name>PauseReason</name>
    <message>
        <source>you paused sharing until %1</source>
        <translation>你已暫停分享到 %1</translation>
    </message>
    <message>
        <source>you paused sharing</source>
        <translation>你已暫停分享</translation>
    </message>
    <message>
        <source>you are using this computer</source>
        <translation>你正在使用這台電腦</translation>
    </message>
    <message>
        <source>running on battery</source>
        <translation>正在使用電池電力</translation>
    </message>
    <message>
        <source>outside your sharing schedule</source>
        <translation>不在你設定的分享時段內</translation>
    </message>
    <message>
        <source>sign in on the Account tab to share</source>
        <translation>請在「帳號」分頁登入後再分享</translation>
    </message>
    <message>
        <source>cannot reach the server</source>
        <translation>無法連線到伺服器</translation>
    </message>
    <message>
        <source>starting</source>
        <translation>啟動中</translation>
    </message>
    <message>
        <source>this computer cannot tell whether you are using it</source>
        <translation>這台電腦無法判斷你是否正在使用它</translation>
    </message>
</context>
<context>
    <name>ResourcesTab</name>
    <message>
        <source>%1 of %2 cores</source>
        <translation>%1／%2 個核心</translation>
    </message>
    <message>
        <source>%1% of each core</source>
        <translation>每個核心的 %1%</translation>
    </message>
    <message>
        <source>%1 of %2</source>
        <translation>%1（共 %2）</translation>
    </message>
    <message>
        <source>%1 of %2 free</source>
        <translation>%1（可用空間共 %2）</translation>
    </message>
    <message>
        <source>This computer</source>
        <translation>這台電腦</translation>
    </message>
    <message>
        <source>Network</source>
        <translation>網路</translation>
    </message>
    <message>
        <source>When to share</source>
        <translation>分享時機</translation>
    </message>
    <message>
        <source>Processor cores</source>
        <translation>處理器核心</translation>
    </message>
    <message>
        <source>Processor use</source>
        <translation>處理器使用率</translation>
    </message>
    <message>
        <source>Memory</source>
        <translation>記憶體</translation>
    </message>
    <message>
        <source>Disk space</source>
        <translation>磁碟空間</translation>
    </message>
    <message>
        <source>Graphics card</source>
        <translation>顯示卡</translation>
    </message>
    <message>
        <source>Share the graphics card</source>
        <translation>分享顯示卡</translation>
    </message>
    <message>
        <source>Upload limit</source>
        <translation>上傳速度上限</translation>
    </message>
    <message>
        <source>Download limit</source>
        <translation>下載速度上限</translation>
    </message>
    <message>
        <source>KB/s</source>
        <translation>KB/s</translation>
    </message>
    <message>
        <source>Unlimited</source>
        <translation>不限制</translation>
    </message>
    <message>
        <source>Only when idle for</source>
        <translation>閒置多久後才分享</translation>
    </message>
    <message>
        <source>min</source>
        <translation>分鐘</translation>
    </message>
    <message>
        <source>Always (do not wait)</source>
        <translation>隨時（不必等待）</translation>
    </message>
    <message>
        <source>Pause while on battery</source>
        <translation>使用電池時暫停</translation>
    </message>
    <message>
        <source>Task isolation</source>
        <translation>任務隔離方式</translation>
    </message>
    <message>
        <source>Docker sandbox (recommended)</source>
        <translation>Docker 沙箱（建議）</translation>
    </message>
    <message>
        <source>No sandbox (trusted private networks only)</source>
        <translation>不使用沙箱（僅限可信任的私人網路）</translation>
    </message>
    <message>
        <source>Tasks run as ordinary programs on this computer, without a sandbox. Use this only with people you trust.</source>
        <translation>任務會以一般程式的形式直接在這台電腦上執行，沒有沙箱保護。只有在信任對方時才使用。</translation>
    </message>
    <message>
        <source>Share only during the marked hours</source>
        <translation>只在標示的時段分享</translation>
    </message>
    <message>
        <source>Security</source>
        <translation>安全性</translation>
    </message>
    <message>
        <source>Renew this computer&apos;s node key every</source>
        <translation>本機節點金鑰的更換週期</translation>
    </message>
    <message>
        <source>Never</source>
        <translation>永不更換</translation>
    </message>
    <message>
        <source>This computer proves it is your node with a secret key. While sharing, HiveMind replaces the key once it is this old, so a copy taken from this computer stops working by itself. Never keeps the same key.</source>
        <translation>本機以一把秘密金鑰證明它是你的節點。分享時，金鑰一旦到了這個天數，HiveMind 就會更換它，因此從本機複製走的金鑰會自動失效。選「永不更換」則一直使用同一把金鑰。</translation>
    </message>
    <message>
        <source>Not available: %1</source>
        <translation>無法使用：%1</translation>
    </message>
    <message>
        <source>Checking for a usable graphics card…</source>
        <translation>正在檢查是否有可用的顯示卡…</translation>
    </message>
    <message numerus="yes">
        <source>day(s)</source>
        <translation>
            <numerusform>天</numerusform>
        </translation>
    </message>
    <message>
        <source>Not saved: %1</source>
        <translation>未儲存：%1</translation>
    </message>
</context>
<context>
    <name>SharingState</name>
    <message>
        <source>Sharing: waiting for work</source>
        <translation>分享中：等待工作</translation>
    </message>
    <message>
        <source>Paused: %1</source>
        <translation>已暫停：%1</translation>
    </message>
    <message>
        <source>Offline: %1</source>
        <translation>離線：%1</translation>
    </message>
    <message>
        <source>Stopped by an error: %1</source>
        <translation>因錯誤而停止：%1</translation>
    </message>
    <message>
        <source>Not sharing</source>
        <translation>未分享</translation>
    </message>
    <message>
        <source>Sharing</source>
        <translation>分享中</translation>
    </message>
    <message>
        <source>Paused</source>
        <translation>已暫停</translation>
    </message>
    <message>
        <source>Offline</source>
        <translation>離線</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>錯誤</translation>
    </message>
</context>
<context>
    <name>SubmitTab</name>
    <message>
        <source>Job</source>
        <translation>工作</translation>
    </message>
    <message>
        <source>Each task</source>
        <translation>每個任務</translation>
    </message>
    <message>
        <source>Package</source>
        <translation>工作套件</translation>
    </message>
    <message>
        <source>A folder or zip with hivemind.toml</source>
        <translation>含有 hivemind.toml 的資料夾或 zip 檔</translation>
    </message>
    <message>
        <source>Folder…</source>
        <translation>資料夾…</translation>
    </message>
    <message>
        <source>Zip…</source>
        <translation>Zip 檔…</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名稱</translation>
    </message>
    <message>
        <source>Runtime</source>
        <translation>執行環境</translation>
    </message>
    <message>
        <source>Command</source>
        <translation>指令</translation>
    </message>
    <message>
        <source>Tasks</source>
        <translation>任務</translation>
    </message>
    <message>
        <source>Number of tasks</source>
        <translation>任務數量</translation>
    </message>
    <message>
        <source>One task per input file</source>
        <translation>每個輸入檔一個任務</translation>
    </message>
    <message>
        <source>Add files…</source>
        <translation>加入檔案…</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>清除</translation>
    </message>
    <message>
        <source>Cores</source>
        <translation>核心數</translation>
    </message>
    <message>
        <source>Memory</source>
        <translation>記憶體</translation>
    </message>
    <message>
        <source>Time limit</source>
        <translation>時間上限</translation>
    </message>
    <message>
        <source>s</source>
        <translation>秒</translation>
    </message>
    <message>
        <source>Replicas</source>
        <translation>副本數</translation>
    </message>
    <message>
        <source>Run each task on this many computers of different people and compare</source>
        <translation>每個任務在這麼多位不同使用者的電腦上執行，並比對結果</translation>
    </message>
    <message>
        <source>Priority</source>
        <translation>優先權</translation>
    </message>
    <message>
        <source>Maximum cost (CPT)</source>
        <translation>費用上限（CPT）</translation>
    </message>
    <message>
        <source>the worst case</source>
        <translation>最壞情況的費用</translation>
    </message>
    <message>
        <source>Submit</source>
        <translation>提交</translation>
    </message>
    <message>
        <source>Choose a package folder</source>
        <translation>選擇工作套件資料夾</translation>
    </message>
    <message>
        <source>Choose a package zip</source>
        <translation>選擇工作套件 zip 檔</translation>
    </message>
    <message>
        <source>Zip files (*.zip)</source>
        <translation>Zip 檔案 (*.zip)</translation>
    </message>
    <message>
        <source>With 1 replica, results are compared only when the server spot-checks one.</source>
        <translation>副本數為 1 時，只有在伺服器抽查結果時才會比對。</translation>
    </message>
    <message>
        <source>Choose input files</source>
        <translation>選擇輸入檔</translation>
    </message>
    <message>
        <source>Choose a package folder or zip first.</source>
        <translation>請先選擇工作套件資料夾或 zip 檔。</translation>
    </message>
    <message>
        <source>The command cannot be read: %1</source>
        <translation>無法解讀指令：%1</translation>
    </message>
    <message>
        <source>Enter the command that runs each task.</source>
        <translation>請輸入執行每個任務的指令。</translation>
    </message>
    <message>
        <source>Add at least one input file, or give a number of tasks.</source>
        <translation>請至少加入一個輸入檔，或指定任務數量。</translation>
    </message>
    <message>
        <source>Uploading…</source>
        <translation>上傳中…</translation>
    </message>
    <message>
        <source>Submitted job %1.</source>
        <translation>已提交工作 %1。</translation>
    </message>
    <message>
        <source>Not submitted: %1</source>
        <translation>未提交：%1</translation>
    </message>
</context>
<context>
    <name>TrayController</name>
    <message>
        <source>Share resources</source>
        <translation>分享資源</translation>
    </message>
    <message>
        <source>Open HiveMind</source>
        <translation>開啟 HiveMind</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>結束</translation>
    </message>
    <message>
        <source>Resume sharing now</source>
        <translation>立即恢復分享</translation>
    </message>
    <message>
        <source>Pause for 1 hour</source>
        <translation>暫停 1 小時</translation>
    </message>
    <message>
        <source>Today: %1</source>
        <translation>今天：%1</translation>
    </message>
    <message numerus="yes">
        <source>%n of your jobs finished</source>
        <translation>
            <numerusform>你有 %n 個工作已結束</numerusform>
        </translation>
    </message>
</context>
</TS>
