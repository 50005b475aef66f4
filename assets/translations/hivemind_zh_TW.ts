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
        <source>Use it anyway</source>
        <translation>仍然使用</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>帳號</translation>
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
        <source>Signed in as %1 on %2</source>
        <translation>已以 %1 的身分登入 %2</translation>
    </message>
    <message>
        <source>Not signed in</source>
        <translation>尚未登入</translation>
    </message>
    <message>
        <source>Contacting the server…</source>
        <translation>正在連線到伺服器…</translation>
    </message>
    <message>
        <source>Enter a username and a password.</source>
        <translation>請輸入使用者名稱和密碼。</translation>
    </message>
    <message numerus="yes">
        <source>This computer is running %n task(s). They are handed back: another computer runs them, and this one is not paid for them.</source>
        <translation>
            <numerusform>這台電腦正在執行 %n 個任務。它們會交還給網路，由別的電腦執行，這台電腦不會因此得到報酬。</numerusform>
        </translation>
    </message>
    <message>
        <source>Log out?</source>
        <translation>要登出嗎？</translation>
    </message>
    <message>
        <source>Logging out stops sharing.</source>
        <translation>登出後會停止分享。</translation>
    </message>
    <message>
        <source>Use another server?</source>
        <translation>要改用其他伺服器嗎？</translation>
    </message>
    <message>
        <source>Using another server signs you out of this one and stops sharing with it.</source>
        <translation>改用其他伺服器會登出目前的伺服器，並停止分享給它。</translation>
    </message>
    <message>
        <source>Checking %1…</source>
        <translation>正在確認 %1…</translation>
    </message>
    <message>
        <source>Choose a CA certificate</source>
        <translation>選擇 CA 憑證</translation>
    </message>
    <message>
        <source>A&amp;ddress</source>
        <translation>位址(&amp;D)</translation>
    </message>
    <message>
        <source>Use &amp;TLS (encrypted connection)</source>
        <translation>使用 TLS（加密連線）(&amp;T)</translation>
    </message>
    <message>
        <source>CA ce&amp;rtificate</source>
        <translation>CA 憑證(&amp;R)</translation>
    </message>
    <message>
        <source>Use this &amp;server</source>
        <translation>使用這個伺服器(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Username</source>
        <translation>使用者名稱(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Password</source>
        <translation>密碼(&amp;P)</translation>
    </message>
    <message>
        <source>Log &amp;in</source>
        <translation>登入(&amp;I)</translation>
    </message>
    <message>
        <source>Create &amp;account</source>
        <translation>建立帳號(&amp;A)</translation>
    </message>
    <message>
        <source>Log &amp;out</source>
        <translation>登出(&amp;O)</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>語言(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Start HiveMind when I log in</source>
        <translation>登入電腦時自動啟動 HiveMind(&amp;S)</translation>
    </message>
    <message>
        <source>Cache &amp;folder</source>
        <translation>快取資料夾(&amp;F)</translation>
    </message>
    <message>
        <source>Show the app&apos;s lo&amp;g…</source>
        <translation>顯示程式紀錄(&amp;G)…</translation>
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
        <source>Handed back task %2 of job %1: another computer runs it</source>
        <translation>已交還工作 %1 的任務 %2，改由別的電腦執行</translation>
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
        <source>In contact with the server again</source>
        <translation>已重新連上伺服器</translation>
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
        <translation>已送出工作 %1</translation>
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
    <message>
        <source>Started the aggregate of job %1</source>
        <translation>已開始工作 %1 的彙整</translation>
    </message>
    <message>
        <source>Finished the aggregate of job %1</source>
        <translation>已完成工作 %1 的彙整</translation>
    </message>
    <message>
        <source>The aggregate of job %1 failed: %3</source>
        <translation>工作 %1 的彙整失敗：%3</translation>
    </message>
    <message>
        <source>Earned %4 for the aggregate of job %1</source>
        <translation>彙整工作 %1，賺得 %4</translation>
    </message>
</context>
<context>
    <name>Chart</name>
    <message>
        <source>Nothing earned in these %1 days.</source>
        <translation>這 %1 天沒有收益。</translation>
    </message>
    <message>
        <source>%1 days; the best was %2, with %3.</source>
        <translation>共 %1 天；收益最多的是 %2，賺得 %3。</translation>
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
        <source>Stopping: finishing %n task(s) first…</source>
        <translation>
            <numerusform>停止中：先完成 %n 個任務…</numerusform>
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
        <source>&amp;Export CSV…</source>
        <translation>匯出 CSV(&amp;E)…</translation>
    </message>
    <message>
        <source>&amp;Refresh</source>
        <translation>重新整理(&amp;R)</translation>
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
        <source>Time</source>
        <translation>時間</translation>
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
        <source>Earnings per day</source>
        <translation>每日收益</translation>
    </message>
    <message>
        <source>Today (UTC)</source>
        <translation>今天（UTC）</translation>
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
        <source>You were invited to join %1, whose server is at %2.</source>
        <translation>你受邀加入 %1，它的伺服器位於 %2。</translation>
    </message>
    <message>
        <source>Your account</source>
        <translation>你的帳號</translation>
    </message>
    <message>
        <source>HiveMind lends this computer&apos;s spare power to people who need computing, and pays you for it in CPT.</source>
        <translation>HiveMind 會把這台電腦用不到的運算能力借給需要運算的人，並以 CPT 支付你報酬。</translation>
    </message>
    <message>
        <source>CPT (Computing Power Token) is the network&apos;s credit: you earn it when your computer finishes tasks for others, and you spend it to run your own jobs on their computers. A new account starts with a small balance, so you can try that right away.</source>
        <translation>CPT（運算力代幣）是這個網路裡的點數：你的電腦替別人完成任務就能賺取 CPT，也可以用 CPT 在別人的電腦上執行你自己的工作。新帳號會先有一小筆餘額，讓你馬上就能試試看。</translation>
    </message>
    <message>
        <source>&amp;Language:</source>
        <translation>語言(&amp;L)：</translation>
    </message>
    <message>
        <source>Your network</source>
        <translation>你的網路</translation>
    </message>
    <message>
        <source>&amp;Join %1 (recommended)</source>
        <translation>加入 %1（建議）(&amp;J)</translation>
    </message>
    <message>
        <source>Use &amp;another server</source>
        <translation>使用其他伺服器(&amp;A)</translation>
    </message>
    <message>
        <source>Which network do you want to join? Ask the people who run it for its address, or open the invitation link they sent you.</source>
        <translation>你要加入哪個網路？請向網路的管理者索取位址，或開啟他們寄給你的邀請連結。</translation>
    </message>
    <message>
        <source>Server &amp;address:</source>
        <translation>伺服器位址(&amp;A)：</translation>
    </message>
    <message>
        <source>Use &amp;TLS (encrypted connection)</source>
        <translation>使用 TLS（加密連線）(&amp;T)</translation>
    </message>
    <message>
        <source>Your account keeps your CPT. You can also do this later on the Account tab.</source>
        <translation>你的 CPT 存在帳號裡。也可以稍後在「帳號」分頁設定。</translation>
    </message>
    <message>
        <source>I am &amp;new here</source>
        <translation>我是新使用者(&amp;N)</translation>
    </message>
    <message>
        <source>I &amp;have an account</source>
        <translation>我已經有帳號(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;Username:</source>
        <translation>使用者名稱(&amp;U)：</translation>
    </message>
    <message>
        <source>&amp;Password:</source>
        <translation>密碼(&amp;P)：</translation>
    </message>
    <message>
        <source>How to share</source>
        <translation>分享方式</translation>
    </message>
    <message>
        <source>HiveMind only uses what you allow, and tasks run in a sandbox that cannot see your files. You can change this any time on the Resources tab.</source>
        <translation>HiveMind 只會使用你允許的資源，任務在看不到你檔案的沙箱中執行。隨時可以在「資源」分頁修改。</translation>
    </message>
    <message>
        <source>When</source>
        <translation>時機</translation>
    </message>
    <message>
        <source>&amp;Only while I am not using this computer (recommended)</source>
        <translation>只在我沒有使用這台電腦時(&amp;O)（建議）</translation>
    </message>
    <message>
        <source>&amp;Whenever HiveMind runs</source>
        <translation>只要 HiveMind 在執行就分享(&amp;W)</translation>
    </message>
    <message>
        <source>How much</source>
        <translation>分享多少</translation>
    </message>
    <message>
        <source>A &amp;little: half of one core, %2 memory</source>
        <translation>少量(&amp;L)：一個核心的一半、%2 記憶體</translation>
    </message>
    <message>
        <source>&amp;Balanced: %1 of %3 cores, %2 memory</source>
        <translation>適中(&amp;B)：%3 個核心中的 %1 個、%2 記憶體</translation>
    </message>
    <message>
        <source>&amp;Generous: all %3 cores, %2 memory</source>
        <translation>大方(&amp;G)：全部 %3 個核心、%2 記憶體</translation>
    </message>
    <message>
        <source>&amp;Start sharing when I finish</source>
        <translation>完成設定後開始分享(&amp;S)</translation>
    </message>
    <message>
        <source>Enter the server&apos;s address.</source>
        <translation>請輸入伺服器位址。</translation>
    </message>
    <message>
        <source>Checking %1…</source>
        <translation>正在確認 %1…</translation>
    </message>
    <message>
        <source>&amp;Create account</source>
        <translation>建立帳號(&amp;C)</translation>
    </message>
    <message>
        <source>At least 8 characters.</source>
        <translation>至少 8 個字元。</translation>
    </message>
    <message>
        <source>&amp;Log in</source>
        <translation>登入(&amp;L)</translation>
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
    <message>
        <source>Your balance: %1. Run a job with it on the Submit tab, or earn more by sharing.</source>
        <translation>你的餘額：%1。可以在「送出」分頁用它執行工作，或分享電腦賺取更多。</translation>
    </message>
    <message>
        <source>This computer cannot tell when you are using it, so HiveMind would never start. Choose a light share instead, to keep it responsive.</source>
        <translation>這台電腦無法判斷你是否正在使用它，所以 HiveMind 永遠不會開始。請改選少量分享，讓電腦保持順暢。</translation>
    </message>
    <message>
        <source>HiveMind starts after %1 minutes without mouse or keyboard, and stops as soon as you are back.</source>
        <translation>滑鼠和鍵盤閒置 %1 分鐘後 HiveMind 才會開始，你一回來就立刻停止。</translation>
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
    <message>
        <source>no NVIDIA graphics card was found</source>
        <translation>找不到 NVIDIA 顯示卡</translation>
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
        <source>starting</source>
        <translation>準備中</translation>
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
        <translation>送出時間</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>重新整理</translation>
    </message>
    <message>
        <source>Open lo&amp;gs</source>
        <translation>查看紀錄(&amp;G)</translation>
    </message>
    <message>
        <source>&amp;Download results…</source>
        <translation>下載結果(&amp;D)…</translation>
    </message>
    <message>
        <source>Cancel &amp;job</source>
        <translation>取消工作(&amp;J)</translation>
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
        <source>Select a job in the list first.</source>
        <translation>請先在清單中選擇一個工作。</translation>
    </message>
    <message>
        <source>No task of this job has finished yet.</source>
        <translation>這個工作還沒有任何任務完成。</translation>
    </message>
    <message>
        <source>This job has ended.</source>
        <translation>這個工作已經結束。</translation>
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
    <message>
        <source>Logs of %1 not loaded: %2</source>
        <translation>無法載入 %1 的紀錄：%2</translation>
    </message>
    <message>
        <source>Cancel this job?</source>
        <translation>要取消這個工作嗎？</translation>
    </message>
    <message>
        <source>Cancel %1?</source>
        <translation>要取消 %1 嗎？</translation>
    </message>
    <message numerus="yes">
        <source>Its %n unfinished task(s) stop, and none of them will run again. What it has used so far (%1) stays spent; the rest of the %2 held for it comes back to your balance. Results of finished tasks stay available.</source>
        <translation>
            <numerusform>尚未完成的 %n 個任務會停止，之後也不會再執行。目前已花費的 %1 不會退還；為它保留的 %2 中其餘的部分會退回你的餘額。已完成任務的結果仍可下載。</numerusform>
        </translation>
    </message>
    <message>
        <source>Cancel the job</source>
        <translation>取消工作</translation>
    </message>
    <message>
        <source>Keep it running</source>
        <translation>繼續執行</translation>
    </message>
    <message>
        <source>Metrics per round</source>
        <translation>每一輪的指標</translation>
    </message>
    <message>
        <source>Round %1 of %2; aggregate: %3</source>
        <translation>第 %1 輪（共 %2 輪）；彙整指令：%3</translation>
    </message>
</context>
<context>
    <name>LogDialog</name>
    <message>
        <source>Logs of job %1</source>
        <translation>工作 %1 的紀錄</translation>
    </message>
    <message>
        <source>Task logs</source>
        <translation>任務紀錄</translation>
    </message>
    <message>
        <source>No log yet.</source>
        <translation>目前還沒有紀錄。</translation>
    </message>
    <message>
        <source>—— Task %1 (%2) ——</source>
        <translation>—— 任務 %1（%2）——</translation>
    </message>
    <message>
        <source>—— Round %1, aggregate (%2) ——</source>
        <translation>—— 第 %1 輪，彙整（%2）——</translation>
    </message>
    <message>
        <source>—— Round %1, task %2 (%3) ——</source>
        <translation>—— 第 %1 輪，任務 %2（%3）——</translation>
    </message>
    <message>
        <source>(no output)</source>
        <translation>（沒有輸出）</translation>
    </message>
    <message>
        <source>Error: %1</source>
        <translation>錯誤：%1</translation>
    </message>
</context>
<context>
    <name>LogWindow</name>
    <message>
        <source>HiveMind log</source>
        <translation>HiveMind 紀錄</translation>
    </message>
    <message>
        <source>What the app did, newest last. It holds no password; share it with the people who run your network when something needs explaining.</source>
        <translation>程式做過的事，最新的在最後。其中不含密碼；需要說明問題時，可以分享給網路的管理者。</translation>
    </message>
    <message>
        <source>It is also saved in %1.</source>
        <translation>它也存放在 %1。</translation>
    </message>
    <message>
        <source>&amp;Copy all</source>
        <translation>全部複製(&amp;C)</translation>
    </message>
    <message>
        <source>Log lines</source>
        <translation>紀錄內容</translation>
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
        <translation>送出</translation>
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
    <message>
        <source>Stop sharing?</source>
        <translation>要停止分享嗎？</translation>
    </message>
    <message>
        <source>Finish them, then stop</source>
        <translation>先完成再停止</translation>
    </message>
    <message>
        <source>Quit HiveMind?</source>
        <translation>要結束 HiveMind 嗎？</translation>
    </message>
    <message>
        <source>Finish them, then quit</source>
        <translation>先完成再結束</translation>
    </message>
    <message numerus="yes">
        <source>This computer is running %n task(s).</source>
        <translation>
            <numerusform>這台電腦正在執行 %n 個任務。</numerusform>
        </translation>
    </message>
    <message>
        <source>Let them finish, and HiveMind stops when the last one is done: you are paid for them. Or hand them back now: they run again on another computer, and this one is not paid for them.</source>
        <translation>可以讓它們先完成，最後一個完成後 HiveMind 就會停止，你也會得到報酬；或者現在交還，由別的電腦重新執行，這台電腦不會因此得到報酬。</translation>
    </message>
    <message>
        <source>Hand them back now</source>
        <translation>現在交還</translation>
    </message>
    <message>
        <source>You are already on %1.</source>
        <translation>你已經在使用 %1。</translation>
    </message>
    <message>
        <source>Join another network?</source>
        <translation>要加入其他網路嗎？</translation>
    </message>
    <message>
        <source>Join %1?</source>
        <translation>要加入 %1 嗎？</translation>
    </message>
    <message>
        <source>HiveMind will use the server at %1. You sign in there with that network&apos;s account, and this computer stops sharing with %2.</source>
        <translation>HiveMind 會改用位於 %1 的伺服器。你需要用那個網路的帳號登入，這台電腦也會停止分享給 %2。</translation>
    </message>
    <message>
        <source>Join</source>
        <translation>加入</translation>
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
        <source>Sign in…</source>
        <translation>登入…</translation>
    </message>
    <message>
        <source>Hand them back now</source>
        <translation>現在交還</translation>
    </message>
    <message>
        <source>&amp;Stop sharing</source>
        <translation>停止分享(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Start sharing</source>
        <translation>開始分享(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Resume sharing now</source>
        <translation>立即恢復分享(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Pause for 1 hour</source>
        <translation>暫停 1 小時(&amp;P)</translation>
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
    <message>
        <source>aggregate</source>
        <translation>彙整</translation>
    </message>
</context>
<context>
    <name>PackageWarning</name>
    <message>
        <source>hivemind.toml: %2 in [%1] is not a setting HiveMind knows; it is left out.</source>
        <translation>hivemind.toml：[%1] 中的 %2 不是 HiveMind 認得的設定，已略過。</translation>
    </message>
    <message>
        <source>hivemind.toml: the table [%1] is not one HiveMind knows; it is left out.</source>
        <translation>hivemind.toml：HiveMind 不認得 [%1] 這個區段，已略過。</translation>
    </message>
</context>
<context>
    <name>PauseReason</name>
    <message>
        <source>you paused sharing until %1</source>
        <translation>你暫停了分享，直到 %1</translation>
    </message>
    <message>
        <source>outside your sharing schedule; the next window opens %1</source>
        <translation>不在你設定的分享時段內，下一個時段從 %1 開始</translation>
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
    <name>Problem</name>
    <message>
        <source>the server</source>
        <translation>伺服器</translation>
    </message>
    <message>
        <source>Can&apos;t reach the server at %1.</source>
        <translation>無法連線到位於 %1 的伺服器。</translation>
    </message>
    <message>
        <source>Check the address or your connection.</source>
        <translation>請檢查位址或你的網路連線。</translation>
    </message>
    <message>
        <source>Wrong username or password.</source>
        <translation>使用者名稱或密碼錯誤。</translation>
    </message>
    <message>
        <source>Check both and try again.</source>
        <translation>請確認後再試一次。</translation>
    </message>
    <message>
        <source>Too many wrong passwords: signing in to this account is paused for a while.</source>
        <translation>密碼錯誤次數太多，這個帳號暫時無法登入。</translation>
    </message>
    <message>
        <source>Try again in %1.</source>
        <translation>請在 %1後再試。</translation>
    </message>
    <message>
        <source>The username %1 is taken.</source>
        <translation>使用者名稱 %1 已有人使用。</translation>
    </message>
    <message>
        <source>Choose another.</source>
        <translation>請換一個。</translation>
    </message>
    <message>
        <source>That username cannot be used.</source>
        <translation>無法使用這個使用者名稱。</translation>
    </message>
    <message>
        <source>Use 3 to 32 letters, digits or underscores.</source>
        <translation>請使用 3 到 32 個英文字母、數字或底線。</translation>
    </message>
    <message>
        <source>The password is too short.</source>
        <translation>密碼太短。</translation>
    </message>
    <message>
        <source>Use at least %1 characters.</source>
        <translation>請至少使用 %1 個字元。</translation>
    </message>
    <message>
        <source>The password is too long.</source>
        <translation>密碼太長。</translation>
    </message>
    <message>
        <source>Use at most %1 characters.</source>
        <translation>最多只能使用 %1 個字元。</translation>
    </message>
    <message>
        <source>Too many new accounts were made from your network.</source>
        <translation>從你的網路建立的新帳號太多了。</translation>
    </message>
    <message>
        <source>You are not signed in to %1.</source>
        <translation>你尚未登入 %1。</translation>
    </message>
    <message>
        <source>Sign in on the Account tab.</source>
        <translation>請在「帳號」分頁登入。</translation>
    </message>
    <message>
        <source>This job may cost up to %1; you have %2, and %3 of starter credit, which pays only for a whole job.</source>
        <translation>這個工作最多可能花費 %1，你有 %2，另有 %3 新手額度，但新手額度只能支付整個工作。</translation>
    </message>
    <message>
        <source>This job may cost up to %1, and you have %2.</source>
        <translation>這個工作最多可能花費 %1，而你只有 %2。</translation>
    </message>
    <message>
        <source>Run fewer tasks, give them less time or fewer replicas, or earn CPT by sharing this computer.</source>
        <translation>請減少任務數量、縮短時間上限或減少副本數，或分享這台電腦來賺取 CPT。</translation>
    </message>
    <message>
        <source>Your maximum cost is below what this job may need: %1.</source>
        <translation>你設定的費用上限低於這個工作可能需要的金額：%1。</translation>
    </message>
    <message>
        <source>Raise the maximum cost, or leave it empty.</source>
        <translation>請提高費用上限，或留空。</translation>
    </message>
    <message>
        <source>The server has no runtime called %1.</source>
        <translation>伺服器沒有名為 %1 的執行環境。</translation>
    </message>
    <message>
        <source>Runtimes it has: %1.</source>
        <translation>伺服器提供的執行環境：%1。</translation>
    </message>
    <message>
        <source>You already have %1 unfinished jobs, the most the server allows.</source>
        <translation>你已有 %1 個未完成的工作，已達伺服器允許的上限。</translation>
    </message>
    <message>
        <source>Wait for one to finish, or cancel one.</source>
        <translation>請等其中一個完成，或取消一個。</translation>
    </message>
    <message>
        <source>The server no longer accepts work from this computer.</source>
        <translation>伺服器已不再接受這台電腦的運算。</translation>
    </message>
    <message>
        <source>Ask the people who run the network why.</source>
        <translation>請向網路的管理者詢問原因。</translation>
    </message>
    <message>
        <source>HiveMind does not send your password unencrypted to %1.</source>
        <translation>HiveMind 不會以未加密的方式把你的密碼送到 %1。</translation>
    </message>
    <message>
        <source>Turn on TLS, or check the address with the people who run the network.</source>
        <translation>請開啟 TLS，或向網路的管理者確認位址。</translation>
    </message>
    <message>
        <source>Something answers at %1, but it is not a HiveMind server.</source>
        <translation>%1 有回應，但它不是 HiveMind 伺服器。</translation>
    </message>
    <message>
        <source>Check the address and the port.</source>
        <translation>請檢查位址和連接埠。</translation>
    </message>
    <message>
        <source>The certificate file cannot be read.</source>
        <translation>無法讀取憑證檔。</translation>
    </message>
    <message>
        <source>Choose another file.</source>
        <translation>請選擇其他檔案。</translation>
    </message>
    <message>
        <source>That is not a server address.</source>
        <translation>這不是伺服器位址。</translation>
    </message>
    <message>
        <source>Write it as HOST:PORT, for example hive.example.org:50051.</source>
        <translation>請寫成「主機:連接埠」，例如 hive.example.org:50051。</translation>
    </message>
    <message>
        <source>%1 is not an amount of CPT.</source>
        <translation>%1 不是有效的 CPT 金額。</translation>
    </message>
    <message>
        <source>Write it as a number, for example 12.5.</source>
        <translation>請填入數字，例如 12.5。</translation>
    </message>
    <message>
        <source>Docker is not running on this computer, so tasks cannot run in their sandbox.</source>
        <translation>這台電腦上的 Docker 沒有在執行，任務無法在沙箱中執行。</translation>
    </message>
    <message>
        <source>Start Docker (or install it), then turn sharing on again.</source>
        <translation>請啟動（或安裝）Docker，再重新開啟分享。</translation>
    </message>
    <message>
        <source>This package cannot be used.</source>
        <translation>無法使用這個工作套件。</translation>
    </message>
    <message>
        <source>See the details, fix it, and choose it again.</source>
        <translation>請查看詳細資訊，修正後再重新選擇。</translation>
    </message>
    <message>
        <source>The server does not allow this.</source>
        <translation>伺服器不允許這項操作。</translation>
    </message>
    <message>
        <source>The server does not know this (it may have been removed).</source>
        <translation>伺服器找不到這個項目（可能已被移除）。</translation>
    </message>
    <message>
        <source>A limit of the server was reached.</source>
        <translation>已達到伺服器的限制。</translation>
    </message>
    <message>
        <source>Try again later.</source>
        <translation>請稍後再試。</translation>
    </message>
    <message>
        <source>The server ran into a problem.</source>
        <translation>伺服器發生問題。</translation>
    </message>
    <message>
        <source>Try again later. If it goes on, tell the people who run the network.</source>
        <translation>請稍後再試；如果問題持續，請告知網路的管理者。</translation>
    </message>
    <message>
        <source>The server refused this.</source>
        <translation>伺服器拒絕了這項要求。</translation>
    </message>
    <message>
        <source>The details say why.</source>
        <translation>詳細資訊中有說明原因。</translation>
    </message>
    <message>
        <source>The request was interrupted.</source>
        <translation>要求被中斷了。</translation>
    </message>
    <message>
        <source>Try again.</source>
        <translation>請再試一次。</translation>
    </message>
    <message>
        <source>Something went wrong.</source>
        <translation>發生錯誤。</translation>
    </message>
    <message>
        <source>The details say what.</source>
        <translation>詳細資訊中有說明。</translation>
    </message>
    <message>
        <source>a while</source>
        <translation>一段時間</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 秒</translation>
    </message>
    <message>
        <source>%1 min</source>
        <translation>%1 分鐘</translation>
    </message>
</context>
<context>
    <name>ProblemLine</name>
    <message>
        <source>Details</source>
        <translation>詳細資訊</translation>
    </message>
    <message>
        <source>Show what the server or the system said</source>
        <translation>顯示伺服器或系統的原始訊息</translation>
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
        <source>Processor &amp;cores</source>
        <translation>處理器核心(&amp;C)</translation>
    </message>
    <message>
        <source>Processor &amp;use</source>
        <translation>處理器使用率(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Memory</source>
        <translation>記憶體(&amp;M)</translation>
    </message>
    <message>
        <source>&amp;Disk space</source>
        <translation>磁碟空間(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Graphics card</source>
        <translation>顯示卡(&amp;G)</translation>
    </message>
    <message>
        <source>All of them</source>
        <translation>全部</translation>
    </message>
    <message>
        <source>GPUs</source>
        <translation>張</translation>
    </message>
    <message>
        <source>Graphics cards to share</source>
        <translation>要分享的顯示卡</translation>
    </message>
    <message>
        <source>How many of this computer&apos;s graphics cards to share</source>
        <translation>要分享這台電腦的幾張顯示卡</translation>
    </message>
    <message>
        <source>U&amp;pload limit</source>
        <translation>上傳速度上限(&amp;P)</translation>
    </message>
    <message>
        <source>Do&amp;wnload limit</source>
        <translation>下載速度上限(&amp;W)</translation>
    </message>
    <message>
        <source>Only when &amp;idle for</source>
        <translation>閒置多久後才分享(&amp;I)</translation>
    </message>
    <message>
        <source>Pause while on &amp;battery</source>
        <translation>使用電池時暫停(&amp;B)</translation>
    </message>
    <message>
        <source>Task is&amp;olation</source>
        <translation>任務隔離方式(&amp;O)</translation>
    </message>
    <message>
        <source>Share only during the &amp;marked hours</source>
        <translation>只在標示的時段分享(&amp;M)</translation>
    </message>
    <message>
        <source>&amp;Renew this computer&apos;s node key every</source>
        <translation>本機節點金鑰的更換週期(&amp;R)</translation>
    </message>
    <message>
        <source>Share the graphics card</source>
        <translation>分享顯示卡</translation>
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
        <source>min</source>
        <translation>分鐘</translation>
    </message>
    <message>
        <source>Always (do not wait)</source>
        <translation>隨時（不必等待）</translation>
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
        <source>Security</source>
        <translation>安全性</translation>
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
        <source>Sharing hours, Monday to Sunday</source>
        <translation>分享時段，週一至週日</translation>
    </message>
    <message>
        <source>Click or drag to mark hours; or use the arrow keys and Space</source>
        <translation>點一下或拖曳來標示時段；也可以用方向鍵和空白鍵</translation>
    </message>
    <message>
        <source>no hour is marked</source>
        <translation>沒有標示任何時段</translation>
    </message>
    <message>
        <source>Marked: %1</source>
        <translation>已標示：%1</translation>
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
    <name>ScheduleEditor</name>
    <message>
        <source>every day, all day</source>
        <translation>每天全天</translation>
    </message>
    <message>
        <source>all day</source>
        <translation>全天</translation>
    </message>
</context>
<context>
    <name>SharingState</name>
    <message>
        <source>Sharing: waiting for work</source>
        <translation>分享中：等待工作</translation>
    </message>
    <message>
        <source>Paused: you paused sharing until %1</source>
        <translation>暫停分享至 %1</translation>
    </message>
    <message>
        <source>Paused: you paused sharing</source>
        <translation>已暫停分享</translation>
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
    <message>
        <source>Stopping</source>
        <translation>停止中</translation>
    </message>
</context>
<context>
    <name>StoppingDialog</name>
    <message>
        <source>Quitting HiveMind</source>
        <translation>正在結束 HiveMind</translation>
    </message>
    <message>
        <source>Hand them back now</source>
        <translation>現在交還</translation>
    </message>
    <message>
        <source>Stop the tasks now: they run again on another computer, unpaid here</source>
        <translation>立即停止任務：改由別的電腦重新執行，這台電腦不會得到報酬</translation>
    </message>
    <message>
        <source>Stopping sharing and closing…</source>
        <translation>正在停止分享並關閉…</translation>
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
        <source>A folder or zip with hivemind.toml: choose, paste or drop it here</source>
        <translation>含有 hivemind.toml 的資料夾或 zip 檔：可選擇、貼上或拖放到這裡</translation>
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
        <source>s</source>
        <translation>秒</translation>
    </message>
    <message>
        <source>Run each task on this many computers of different people and compare</source>
        <translation>每個任務在這麼多位不同使用者的電腦上執行，並比對結果</translation>
    </message>
    <message>
        <source>the worst case</source>
        <translation>最壞情況的費用</translation>
    </message>
    <message>
        <source>&amp;Package</source>
        <translation>工作套件(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;Folder…</source>
        <translation>資料夾(&amp;F)…</translation>
    </message>
    <message>
        <source>&amp;Zip…</source>
        <translation>Zip 檔(&amp;Z)…</translation>
    </message>
    <message>
        <source>&amp;Name</source>
        <translation>名稱(&amp;N)</translation>
    </message>
    <message>
        <source>R&amp;untime</source>
        <translation>執行環境(&amp;U)</translation>
    </message>
    <message>
        <source>Co&amp;mmand</source>
        <translation>指令(&amp;M)</translation>
    </message>
    <message>
        <source>Number of &amp;tasks</source>
        <translation>任務數量(&amp;T)</translation>
    </message>
    <message>
        <source>One task per &amp;input file</source>
        <translation>每個輸入檔一個任務(&amp;I)</translation>
    </message>
    <message>
        <source>&amp;Add files…</source>
        <translation>加入檔案(&amp;A)…</translation>
    </message>
    <message>
        <source>Clea&amp;r</source>
        <translation>清除(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Cores</source>
        <translation>核心數(&amp;C)</translation>
    </message>
    <message>
        <source>M&amp;emory</source>
        <translation>記憶體(&amp;E)</translation>
    </message>
    <message>
        <source>Time &amp;limit</source>
        <translation>時間上限(&amp;L)</translation>
    </message>
    <message>
        <source>Re&amp;plicas</source>
        <translation>副本數(&amp;P)</translation>
    </message>
    <message>
        <source>Pri&amp;ority</source>
        <translation>優先權(&amp;O)</translation>
    </message>
    <message>
        <source>Ma&amp;ximum cost (CPT)</source>
        <translation>費用上限（CPT）(&amp;X)</translation>
    </message>
    <message>
        <source>&amp;Submit</source>
        <translation>送出(&amp;S)</translation>
    </message>
    <message>
        <source>Input files</source>
        <translation>輸入檔</translation>
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
        <source>There is no folder or zip at %1.</source>
        <translation>%1 沒有資料夾或 zip 檔。</translation>
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
        <translation>已送出工作 %1。</translation>
    </message>
</context>
<context>
    <name>TaskError</name>
    <message>
        <source>exited with code %1 (killed by signal %2)</source>
        <translation>程式以錯誤碼 %1 結束（被訊號 %2 終止）</translation>
    </message>
    <message>
        <source>exited with code %1</source>
        <translation>程式以錯誤碼 %1 結束</translation>
    </message>
    <message>
        <source>timed out after %1 s</source>
        <translation>超過時間上限（%1 秒）</translation>
    </message>
    <message>
        <source>killed: out of memory (limit %1 MB)</source>
        <translation>記憶體不足而被終止（上限 %1 MB）</translation>
    </message>
    <message>
        <source>killed: disk limit exceeded (%1 MB)</source>
        <translation>超過磁碟空間上限而被終止（%1 MB）</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>this computer stopped before the task finished; it runs elsewhere</source>
        <translation>這台電腦在任務完成前停止，任務改由別的電腦執行</translation>
    </message>
    <message>
        <source>the runtime image %1 is not on this computer</source>
        <translation>這台電腦上沒有執行環境映像 %1</translation>
    </message>
    <message>
        <source>the task&apos;s container disappeared before it ended</source>
        <translation>任務的容器在結束前消失了</translation>
    </message>
    <message>
        <source>Docker is not running (%1)</source>
        <translation>Docker 未在執行（%1）</translation>
    </message>
    <message>
        <source>the server did not accept the result: %1</source>
        <translation>伺服器不接受這份結果：%1</translation>
    </message>
    <message>
        <source>the task could not be prepared: %1</source>
        <translation>無法準備任務：%1</translation>
    </message>
    <message>
        <source>the task&apos;s files could not be fetched: %1</source>
        <translation>無法取得任務的檔案：%1</translation>
    </message>
    <message>
        <source>compare command: %1</source>
        <translation>比對指令：%1</translation>
    </message>
</context>
<context>
    <name>TaskLog</name>
    <message>
        <source>[… %1 bytes of the log left out here …]</source>
        <translation>[… 這裡省略了 %1 位元組的紀錄 …]</translation>
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
<context>
    <name>Waiting</name>
    <message>
        <source>waiting: no node with a free GPU is online</source>
        <translation>等待中：沒有空閒 GPU 的節點在線上</translation>
    </message>
    <message>
        <source>waiting: %1</source>
        <translation>等待中：%1</translation>
    </message>
</context>
</TS>
