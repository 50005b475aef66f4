<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="en">
<context>
    <name>AccountTab</name>
    <message>
        <source>Server</source>
        <translation>Server</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>Address</translation>
    </message>
    <message>
        <source>Use TLS (encrypted connection)</source>
        <translation>Use TLS (encrypted connection)</translation>
    </message>
    <message>
        <source>CA certificate</source>
        <translation>CA certificate</translation>
    </message>
    <message>
        <source>the system&apos;s certificates</source>
        <translation>the system&apos;s certificates</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>Choose…</translation>
    </message>
    <message>
        <source>Use this server</source>
        <translation>Use this server</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>Account</translation>
    </message>
    <message>
        <source>Username</source>
        <translation>Username</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>Password</translation>
    </message>
    <message>
        <source>Log in</source>
        <translation>Log in</translation>
    </message>
    <message>
        <source>Create account</source>
        <translation>Create account</translation>
    </message>
    <message>
        <source>Log out</source>
        <translation>Log out</translation>
    </message>
    <message>
        <source>Preferences</source>
        <translation>Preferences</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>Language</translation>
    </message>
    <message>
        <source>Start HiveMind when I log in</source>
        <translation>Start HiveMind when I log in</translation>
    </message>
    <message>
        <source>Cache folder</source>
        <translation>Cache folder</translation>
    </message>
    <message>
        <source>Log</source>
        <translation>Log</translation>
    </message>
    <message>
        <source>Signed in as %1 on %2</source>
        <translation>Signed in as %1 on %2</translation>
    </message>
    <message>
        <source>Not signed in</source>
        <translation>Not signed in</translation>
    </message>
    <message>
        <source>Enter a username and a password.</source>
        <translation>Enter a username and a password.</translation>
    </message>
    <message>
        <source>Choose a CA certificate</source>
        <translation>Choose a CA certificate</translation>
    </message>
    <message>
        <source>Certificates (*.pem *.crt)</source>
        <translation>Certificates (*.pem *.crt)</translation>
    </message>
    <message>
        <source>Start at login not changed: %1</source>
        <translation>Start at login not changed: %1</translation>
    </message>
    <message>
        <source>Choose the cache folder</source>
        <translation>Choose the cache folder</translation>
    </message>
    <message>
        <source>Cache folder not changed: %1</source>
        <translation>Cache folder not changed: %1</translation>
    </message>
</context>
<context>
    <name>Activity</name>
    <message>
        <source>Started task %2 of job %1</source>
        <translation>Started task %2 of job %1</translation>
    </message>
    <message>
        <source>Finished task %2 of job %1</source>
        <translation>Finished task %2 of job %1</translation>
    </message>
    <message>
        <source>Task %2 of job %1 failed: %3</source>
        <translation>Task %2 of job %1 failed: %3</translation>
    </message>
    <message>
        <source>Earned %4 for task %2 of job %1</source>
        <translation>Earned %4 for task %2 of job %1</translation>
    </message>
    <message>
        <source>Paused: %3</source>
        <translation>Paused: %3</translation>
    </message>
    <message>
        <source>Resumed sharing</source>
        <translation>Resumed sharing</translation>
    </message>
    <message>
        <source>Problem: %3</source>
        <translation>Problem: %3</translation>
    </message>
    <message>
        <source>This computer joined the network as node %3</source>
        <translation>This computer joined the network as node %3</translation>
    </message>
    <message>
        <source>Sharing turned on</source>
        <translation>Sharing turned on</translation>
    </message>
    <message>
        <source>Sharing turned off</source>
        <translation>Sharing turned off</translation>
    </message>
    <message>
        <source>Signed in as %3</source>
        <translation>Signed in as %3</translation>
    </message>
    <message>
        <source>Signed out</source>
        <translation>Signed out</translation>
    </message>
    <message>
        <source>Submitted job %1</source>
        <translation>Submitted job %1</translation>
    </message>
    <message>
        <source>Your job %1 is %3</source>
        <translation>Your job %1 is %3</translation>
    </message>
    <message>
        <source>Results of job %1 saved to %3</source>
        <translation>Results of job %1 saved to %3</translation>
    </message>
    <message>
        <source>Compared results of task %2 of job %1: equivalent</source>
        <translation>Compared results of task %2 of job %1: equivalent</translation>
    </message>
    <message>
        <source>Compared results of task %2 of job %1: different</source>
        <translation>Compared results of task %2 of job %1: different</translation>
    </message>
    <message>
        <source>Compared results of task %2 of job %1</source>
        <translation>Compared results of task %2 of job %1</translation>
    </message>
    <message>
        <source>Comparing results of task %2 of job %1…</source>
        <translation>Comparing results of task %2 of job %1…</translation>
    </message>
    <message>
        <source>Comparing results of task %2 of job %1 failed: %3</source>
        <translation>Comparing results of task %2 of job %1 failed: %3</translation>
    </message>
    <message>
        <source>Earned %4 for comparing results of task %2 of job %1</source>
        <translation>Earned %4 for comparing results of task %2 of job %1</translation>
    </message>
    <message>
        <source>Earned %1 from %2 and %3</source>
        <translation>Earned %1 from %2 and %3</translation>
    </message>
</context>
<context>
    <name>CostEstimate</name>
    <message>
        <source>No estimate: %1</source>
        <translation>No estimate: %1</translation>
    </message>
    <message>
        <source>Holds up to %1 until the job ends: the worst case, where every task, replica and comparison uses its whole time limit. What is not spent is refunded.</source>
        <translation>Holds up to %1 until the job ends: the worst case, where every task, replica and comparison uses its whole time limit. What is not spent is refunded.</translation>
    </message>
    <message>
        <source>Paid from your starter credit: the job runs only on capacity no paid job wants.</source>
        <translation>Paid from your starter credit: the job runs only on capacity no paid job wants.</translation>
    </message>
    <message>
        <source>Neither your CPT nor your starter credit covers it: the server will refuse.</source>
        <translation>Neither your CPT nor your starter credit covers it: the server will refuse.</translation>
    </message>
    <message>
        <source>The maximum cost is not a valid amount.</source>
        <translation>The maximum cost is not a valid amount.</translation>
    </message>
    <message>
        <source>Your maximum is below that: the server will refuse.</source>
        <translation>Your maximum is below that: the server will refuse.</translation>
    </message>
</context>
<context>
    <name>Counted</name>
    <message numerus="yes">
        <source>Sharing: %n task(s) running</source>
        <translation>
            <numerusform>Sharing: %n task running</numerusform>
            <numerusform>Sharing: %n tasks running</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Earned %1 from %n task(s)</source>
        <translation>
            <numerusform>Earned %1 from %n task</numerusform>
            <numerusform>Earned %1 from %n tasks</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Earned %1 from %n comparison(s)</source>
        <translation>
            <numerusform>Earned %1 from %n comparison</numerusform>
            <numerusform>Earned %1 from %n comparisons</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n task(s)</source>
        <translation>
            <numerusform>%n task</numerusform>
            <numerusform>%n tasks</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n comparison(s)</source>
        <translation>
            <numerusform>%n comparison</numerusform>
            <numerusform>%n comparisons</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>EarningsTab</name>
    <message>
        <source>Balance</source>
        <translation>Balance</translation>
    </message>
    <message>
        <source>Today</source>
        <translation>Today</translation>
    </message>
    <message>
        <source>Last 7 days</source>
        <translation>Last 7 days</translation>
    </message>
    <message>
        <source>Last 30 days</source>
        <translation>Last 30 days</translation>
    </message>
    <message>
        <source>Earnings per day (UTC)</source>
        <translation>Earnings per day (UTC)</translation>
    </message>
    <message>
        <source>Payouts</source>
        <translation>Payouts</translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation>Export CSV…</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>Refresh</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>Time</translation>
    </message>
    <message>
        <source>Job</source>
        <translation>Job</translation>
    </message>
    <message>
        <source>Core-seconds</source>
        <translation>Core-seconds</translation>
    </message>
    <message>
        <source>Base</source>
        <translation>Base</translation>
    </message>
    <message>
        <source>Bonuses</source>
        <translation>Bonuses</translation>
    </message>
    <message>
        <source>Amount</source>
        <translation>Amount</translation>
    </message>
    <message>
        <source>Held for your unfinished jobs: %1</source>
        <translation>Held for your unfinished jobs: %1</translation>
    </message>
    <message>
        <source>Starter credit: %1 (pays only for your own jobs; cannot be sent)</source>
        <translation>Starter credit: %1 (pays only for your own jobs; cannot be sent)</translation>
    </message>
    <message>
        <source>No payouts yet: share this computer to earn CPT.</source>
        <translation>No payouts yet: share this computer to earn CPT.</translation>
    </message>
    <message>
        <source>Export payouts</source>
        <translation>Export payouts</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>CSV files (*.csv)</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>Saved %1</translation>
    </message>
</context>
<context>
    <name>FirstRunWizard</name>
    <message>
        <source>Welcome to HiveMind</source>
        <translation>Welcome to HiveMind</translation>
    </message>
    <message>
        <source>Your HiveMind network</source>
        <translation>Your HiveMind network</translation>
    </message>
    <message>
        <source>HiveMind lends this computer&apos;s idle power to a network and pays you in CPT. Which server runs your network?</source>
        <translation>HiveMind lends this computer&apos;s idle power to a network and pays you in CPT. Which server runs your network?</translation>
    </message>
    <message>
        <source>Server address</source>
        <translation>Server address</translation>
    </message>
    <message>
        <source>Use TLS (encrypted connection)</source>
        <translation>Use TLS (encrypted connection)</translation>
    </message>
    <message>
        <source>Your account</source>
        <translation>Your account</translation>
    </message>
    <message>
        <source>Sign in, or create an account. You can also do this later.</source>
        <translation>Sign in, or create an account. You can also do this later.</translation>
    </message>
    <message>
        <source>Username</source>
        <translation>Username</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>Password</translation>
    </message>
    <message>
        <source>Log in</source>
        <translation>Log in</translation>
    </message>
    <message>
        <source>Create account</source>
        <translation>Create account</translation>
    </message>
    <message>
        <source>How much to share</source>
        <translation>How much to share</translation>
    </message>
    <message>
        <source>HiveMind only uses what you allow. You can change this any time on the Resources tab.</source>
        <translation>HiveMind only uses what you allow. You can change this any time on the Resources tab.</translation>
    </message>
    <message>
        <source>A little: %1 cores, %2 GB memory</source>
        <translation>A little: %1 cores, %2 GB memory</translation>
    </message>
    <message>
        <source>Balanced: %1 cores, %2 GB memory</source>
        <translation>Balanced: %1 cores, %2 GB memory</translation>
    </message>
    <message>
        <source>Generous: %1 cores, %2 GB memory</source>
        <translation>Generous: %1 cores, %2 GB memory</translation>
    </message>
    <message>
        <source>Start sharing now</source>
        <translation>Start sharing now</translation>
    </message>
    <message>
        <source>Enter a username and a password.</source>
        <translation>Enter a username and a password.</translation>
    </message>
    <message>
        <source>Contacting the server…</source>
        <translation>Contacting the server…</translation>
    </message>
    <message>
        <source>Signed in as %1.</source>
        <translation>Signed in as %1.</translation>
    </message>
</context>
<context>
    <name>GpuReason</name>
    <message>
        <source>no NVIDIA container runtime is installed</source>
        <translation>no NVIDIA container runtime is installed</translation>
    </message>
    <message>
        <source>Docker is not running</source>
        <translation>Docker is not running</translation>
    </message>
</context>
<context>
    <name>JobSettings</name>
    <message>
        <source>Compare: %1 (%2 s)</source>
        <translation>Compare: %1 (%2 s)</translation>
    </message>
    <message>
        <source>Compare: %1 (the server&apos;s default time limit)</source>
        <translation>Compare: %1 (the server&apos;s default time limit)</translation>
    </message>
</context>
<context>
    <name>JobState</name>
    <message>
        <source>waiting</source>
        <translation>waiting</translation>
    </message>
    <message>
        <source>running</source>
        <translation>running</translation>
    </message>
    <message>
        <source>done</source>
        <translation>done</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>failed</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>cancelled</translation>
    </message>
</context>
<context>
    <name>JobsPanel</name>
    <message>
        <source>Your jobs</source>
        <translation>Your jobs</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Job</source>
        <translation>Job</translation>
    </message>
    <message>
        <source>State</source>
        <translation>State</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>Progress</translation>
    </message>
    <message>
        <source>Cost</source>
        <translation>Cost</translation>
    </message>
    <message>
        <source>Submitted</source>
        <translation>Submitted</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>Refresh</translation>
    </message>
    <message>
        <source>Open logs</source>
        <translation>Open logs</translation>
    </message>
    <message>
        <source>Download results…</source>
        <translation>Download results…</translation>
    </message>
    <message>
        <source>Cancel job</source>
        <translation>Cancel job</translation>
    </message>
    <message>
        <source>%1 of at most %2</source>
        <translation>%1 of at most %2</translation>
    </message>
    <message>
        <source>%1 of %2 tasks</source>
        <translation>%1 of %2 tasks</translation>
    </message>
    <message>
        <source>Save results to</source>
        <translation>Save results to</translation>
    </message>
    <message>
        <source>Results of %1 saved in %2</source>
        <translation>Results of %1 saved in %2</translation>
    </message>
    <message>
        <source>Results of %1 not saved: %2</source>
        <translation>Results of %1 not saved: %2</translation>
    </message>
</context>
<context>
    <name>LogDialog</name>
    <message>
        <source>Logs of job %1</source>
        <translation>Logs of job %1</translation>
    </message>
    <message>
        <source>No log yet.</source>
        <translation>No log yet.</translation>
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
        <translation>Overview</translation>
    </message>
    <message>
        <source>Resources</source>
        <translation>Resources</translation>
    </message>
    <message>
        <source>Earnings</source>
        <translation>Earnings</translation>
    </message>
    <message>
        <source>Submit</source>
        <translation>Submit</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>Account</translation>
    </message>
    <message>
        <source>This desktop has no system tray, so HiveMind is controlled from this window. Sharing goes on while the window is open, and in the background if you choose so when closing it.</source>
        <translation>This desktop has no system tray, so HiveMind is controlled from this window. Sharing goes on while the window is open, and in the background if you choose so when closing it.</translation>
    </message>
    <message>
        <source>Share resources</source>
        <translation>Share resources</translation>
    </message>
    <message>
        <source>Keep HiveMind running?</source>
        <translation>Keep HiveMind running?</translation>
    </message>
    <message>
        <source>Keep sharing in the background after closing this window?</source>
        <translation>Keep sharing in the background after closing this window?</translation>
    </message>
    <message>
        <source>There is no system tray on this desktop. Start HiveMind again to bring this window back.</source>
        <translation>There is no system tray on this desktop. Start HiveMind again to bring this window back.</translation>
    </message>
    <message>
        <source>Keep running</source>
        <translation>Keep running</translation>
    </message>
    <message>
        <source>Quit HiveMind</source>
        <translation>Quit HiveMind</translation>
    </message>
</context>
<context>
    <name>OverviewTab</name>
    <message>
        <source>Processor</source>
        <translation>Processor</translation>
    </message>
    <message>
        <source>Memory</source>
        <translation>Memory</translation>
    </message>
    <message>
        <source>This computer</source>
        <translation>This computer</translation>
    </message>
    <message>
        <source>HiveMind</source>
        <translation>HiveMind</translation>
    </message>
    <message>
        <source>Pause for 1 hour</source>
        <translation>Pause for 1 hour</translation>
    </message>
    <message>
        <source>Running tasks</source>
        <translation>Running tasks</translation>
    </message>
    <message>
        <source>Recent events</source>
        <translation>Recent events</translation>
    </message>
    <message>
        <source>No task is running on this computer right now.</source>
        <translation>No task is running on this computer right now.</translation>
    </message>
    <message>
        <source>Job</source>
        <translation>Job</translation>
    </message>
    <message>
        <source>Task</source>
        <translation>Task</translation>
    </message>
    <message>
        <source>Elapsed</source>
        <translation>Elapsed</translation>
    </message>
    <message>
        <source>Deadline</source>
        <translation>Deadline</translation>
    </message>
    <message>
        <source>Limits</source>
        <translation>Limits</translation>
    </message>
    <message>
        <source>Stop sharing</source>
        <translation>Stop sharing</translation>
    </message>
    <message>
        <source>Start sharing</source>
        <translation>Start sharing</translation>
    </message>
    <message>
        <source>Resume sharing now</source>
        <translation>Resume sharing now</translation>
    </message>
    <message numerus="yes">
        <source>%n core(s), %1 MB</source>
        <translation>
            <numerusform>%n core, %1 MB</numerusform>
            <numerusform>%n cores, %1 MB</numerusform>
        </translation>
    </message>
    <message>
        <source>paused</source>
        <translation>paused</translation>
    </message>
    <message>
        <source>%1 (comparing)</source>
        <translation>%1 (comparing)</translation>
    </message>
    <message>
        <source>Comparing two results of this task, to tell whether they agree</source>
        <translation>Comparing two results of this task, to tell whether they agree</translation>
    </message>
    <message>
        <source>in %1</source>
        <translation>in %1</translation>
    </message>
</context>
<context>
    <name>PauseReason</name>
    <message>
        <source>you paused sharing until %1</source>
        <translation>you paused sharing until %1</translation>
    </message>
    <message>
        <source>you paused sharing</source>
        <translation>you paused sharing</translation>
    </message>
    <message>
        <source>you are using this computer</source>
        <translation>you are using this computer</translation>
    </message>
    <message>
        <source>running on battery</source>
        <translation>running on battery</translation>
    </message>
    <message>
        <source>outside your sharing schedule</source>
        <translation>outside your sharing schedule</translation>
    </message>
    <message>
        <source>sign in on the Account tab to share</source>
        <translation>sign in on the Account tab to share</translation>
    </message>
    <message>
        <source>cannot reach the server</source>
        <translation>cannot reach the server</translation>
    </message>
    <message>
        <source>starting</source>
        <translation>starting</translation>
    </message>
    <message>
        <source>this computer cannot tell whether you are using it</source>
        <translation>this computer cannot tell whether you are using it</translation>
    </message>
</context>
<context>
    <name>ResourcesTab</name>
    <message>
        <source>%1 of %2 cores</source>
        <translation>%1 of %2 cores</translation>
    </message>
    <message>
        <source>%1% of each core</source>
        <translation>%1% of each core</translation>
    </message>
    <message>
        <source>%1 of %2</source>
        <translation>%1 of %2</translation>
    </message>
    <message>
        <source>%1 of %2 free</source>
        <translation>%1 of %2 free</translation>
    </message>
    <message>
        <source>This computer</source>
        <translation>This computer</translation>
    </message>
    <message>
        <source>Network</source>
        <translation>Network</translation>
    </message>
    <message>
        <source>When to share</source>
        <translation>When to share</translation>
    </message>
    <message>
        <source>Processor cores</source>
        <translation>Processor cores</translation>
    </message>
    <message>
        <source>Processor use</source>
        <translation>Processor use</translation>
    </message>
    <message>
        <source>Memory</source>
        <translation>Memory</translation>
    </message>
    <message>
        <source>Disk space</source>
        <translation>Disk space</translation>
    </message>
    <message>
        <source>Graphics card</source>
        <translation>Graphics card</translation>
    </message>
    <message>
        <source>Share the graphics card</source>
        <translation>Share the graphics card</translation>
    </message>
    <message>
        <source>Upload limit</source>
        <translation>Upload limit</translation>
    </message>
    <message>
        <source>Download limit</source>
        <translation>Download limit</translation>
    </message>
    <message>
        <source>KB/s</source>
        <translation>KB/s</translation>
    </message>
    <message>
        <source>Unlimited</source>
        <translation>Unlimited</translation>
    </message>
    <message>
        <source>Only when idle for</source>
        <translation>Only when idle for</translation>
    </message>
    <message>
        <source>min</source>
        <translation>min</translation>
    </message>
    <message>
        <source>Always (do not wait)</source>
        <translation>Always (do not wait)</translation>
    </message>
    <message>
        <source>Pause while on battery</source>
        <translation>Pause while on battery</translation>
    </message>
    <message>
        <source>Task isolation</source>
        <translation>Task isolation</translation>
    </message>
    <message>
        <source>Docker sandbox (recommended)</source>
        <translation>Docker sandbox (recommended)</translation>
    </message>
    <message>
        <source>No sandbox (trusted private networks only)</source>
        <translation>No sandbox (trusted private networks only)</translation>
    </message>
    <message>
        <source>Tasks run as ordinary programs on this computer, without a sandbox. Use this only with people you trust.</source>
        <translation>Tasks run as ordinary programs on this computer, without a sandbox. Use this only with people you trust.</translation>
    </message>
    <message>
        <source>Share only during the marked hours</source>
        <translation>Share only during the marked hours</translation>
    </message>
    <message>
        <source>Security</source>
        <translation>Security</translation>
    </message>
    <message>
        <source>Renew this computer&apos;s node key every</source>
        <translation>Renew this computer&apos;s node key every</translation>
    </message>
    <message>
        <source>Never</source>
        <translation>Never</translation>
    </message>
    <message>
        <source>This computer proves it is your node with a secret key. While sharing, HiveMind replaces the key once it is this old, so a copy taken from this computer stops working by itself. Never keeps the same key.</source>
        <translation>This computer proves it is your node with a secret key. While sharing, HiveMind replaces the key once it is this old, so a copy taken from this computer stops working by itself. Never keeps the same key.</translation>
    </message>
    <message>
        <source>Not available: %1</source>
        <translation>Not available: %1</translation>
    </message>
    <message>
        <source>Checking for a usable graphics card…</source>
        <translation>Checking for a usable graphics card…</translation>
    </message>
    <message numerus="yes">
        <source>day(s)</source>
        <translation>
            <numerusform>day</numerusform>
            <numerusform>days</numerusform>
        </translation>
    </message>
    <message>
        <source>Not saved: %1</source>
        <translation>Not saved: %1</translation>
    </message>
</context>
<context>
    <name>SharingState</name>
    <message>
        <source>Sharing: waiting for work</source>
        <translation>Sharing: waiting for work</translation>
    </message>
    <message>
        <source>Paused: %1</source>
        <translation>Paused: %1</translation>
    </message>
    <message>
        <source>Offline: %1</source>
        <translation>Offline: %1</translation>
    </message>
    <message>
        <source>Stopped by an error: %1</source>
        <translation>Stopped by an error: %1</translation>
    </message>
    <message>
        <source>Not sharing</source>
        <translation>Not sharing</translation>
    </message>
    <message>
        <source>Sharing</source>
        <translation>Sharing</translation>
    </message>
    <message>
        <source>Paused</source>
        <translation>Paused</translation>
    </message>
    <message>
        <source>Offline</source>
        <translation>Offline</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>Error</translation>
    </message>
</context>
<context>
    <name>SubmitTab</name>
    <message>
        <source>Job</source>
        <translation>Job</translation>
    </message>
    <message>
        <source>Each task</source>
        <translation>Each task</translation>
    </message>
    <message>
        <source>Package</source>
        <translation>Package</translation>
    </message>
    <message>
        <source>A folder or zip with hivemind.toml</source>
        <translation>A folder or zip with hivemind.toml</translation>
    </message>
    <message>
        <source>Folder…</source>
        <translation>Folder…</translation>
    </message>
    <message>
        <source>Zip…</source>
        <translation>Zip…</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Runtime</source>
        <translation>Runtime</translation>
    </message>
    <message>
        <source>Command</source>
        <translation>Command</translation>
    </message>
    <message>
        <source>Tasks</source>
        <translation>Tasks</translation>
    </message>
    <message>
        <source>Number of tasks</source>
        <translation>Number of tasks</translation>
    </message>
    <message>
        <source>One task per input file</source>
        <translation>One task per input file</translation>
    </message>
    <message>
        <source>Add files…</source>
        <translation>Add files…</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>Clear</translation>
    </message>
    <message>
        <source>Cores</source>
        <translation>Cores</translation>
    </message>
    <message>
        <source>Memory</source>
        <translation>Memory</translation>
    </message>
    <message>
        <source>Time limit</source>
        <translation>Time limit</translation>
    </message>
    <message>
        <source>s</source>
        <translation>s</translation>
    </message>
    <message>
        <source>Replicas</source>
        <translation>Replicas</translation>
    </message>
    <message>
        <source>Run each task on this many computers of different people and compare</source>
        <translation>Run each task on this many computers of different people and compare</translation>
    </message>
    <message>
        <source>Priority</source>
        <translation>Priority</translation>
    </message>
    <message>
        <source>Maximum cost (CPT)</source>
        <translation>Maximum cost (CPT)</translation>
    </message>
    <message>
        <source>the worst case</source>
        <translation>the worst case</translation>
    </message>
    <message>
        <source>Submit</source>
        <translation>Submit</translation>
    </message>
    <message>
        <source>Choose a package folder</source>
        <translation>Choose a package folder</translation>
    </message>
    <message>
        <source>Choose a package zip</source>
        <translation>Choose a package zip</translation>
    </message>
    <message>
        <source>Zip files (*.zip)</source>
        <translation>Zip files (*.zip)</translation>
    </message>
    <message>
        <source>With 1 replica, results are compared only when the server spot-checks one.</source>
        <translation>With 1 replica, results are compared only when the server spot-checks one.</translation>
    </message>
    <message>
        <source>Choose input files</source>
        <translation>Choose input files</translation>
    </message>
    <message>
        <source>Choose a package folder or zip first.</source>
        <translation>Choose a package folder or zip first.</translation>
    </message>
    <message>
        <source>The command cannot be read: %1</source>
        <translation>The command cannot be read: %1</translation>
    </message>
    <message>
        <source>Enter the command that runs each task.</source>
        <translation>Enter the command that runs each task.</translation>
    </message>
    <message>
        <source>Add at least one input file, or give a number of tasks.</source>
        <translation>Add at least one input file, or give a number of tasks.</translation>
    </message>
    <message>
        <source>Uploading…</source>
        <translation>Uploading…</translation>
    </message>
    <message>
        <source>Submitted job %1.</source>
        <translation>Submitted job %1.</translation>
    </message>
    <message>
        <source>Not submitted: %1</source>
        <translation>Not submitted: %1</translation>
    </message>
</context>
<context>
    <name>TrayController</name>
    <message>
        <source>Share resources</source>
        <translation>Share resources</translation>
    </message>
    <message>
        <source>Open HiveMind</source>
        <translation>Open HiveMind</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>Quit</translation>
    </message>
    <message>
        <source>Resume sharing now</source>
        <translation>Resume sharing now</translation>
    </message>
    <message>
        <source>Pause for 1 hour</source>
        <translation>Pause for 1 hour</translation>
    </message>
    <message>
        <source>Today: %1</source>
        <translation>Today: %1</translation>
    </message>
    <message numerus="yes">
        <source>%n of your jobs finished</source>
        <translation>
            <numerusform>%n of your jobs finished</numerusform>
            <numerusform>%n of your jobs finished</numerusform>
        </translation>
    </message>
</context>
</TS>
