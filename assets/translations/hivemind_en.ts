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
        <source>the system's certificates</source>
        <translation>the system's certificates</translation>
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
        <source>Use it anyway</source>
        <translation>Use it anyway</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>Account</translation>
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
        <source>Signed in as %1 on %2</source>
        <translation>Signed in as %1 on %2</translation>
    </message>
    <message>
        <source>Not signed in</source>
        <translation>Not signed in</translation>
    </message>
    <message>
        <source>Contacting the server…</source>
        <translation>Contacting the server…</translation>
    </message>
    <message>
        <source>Enter a username and a password.</source>
        <translation>Enter a username and a password.</translation>
    </message>
    <message numerus="yes">
        <source>This computer is running %n task(s). They are handed back: another computer runs them, and this one is not paid for them.</source>
        <translation>
            <numerusform>This computer is running %n task. They are handed back: another computer runs them, and this one is not paid for them.</numerusform>
            <numerusform>This computer is running %n tasks. They are handed back: another computer runs them, and this one is not paid for them.</numerusform>
        </translation>
    </message>
    <message>
        <source>Log out?</source>
        <translation>Log out?</translation>
    </message>
    <message>
        <source>Logging out stops sharing.</source>
        <translation>Logging out stops sharing.</translation>
    </message>
    <message>
        <source>Use another server?</source>
        <translation>Use another server?</translation>
    </message>
    <message>
        <source>Using another server signs you out of this one and stops sharing with it.</source>
        <translation>Using another server signs you out of this one and stops sharing with it.</translation>
    </message>
    <message>
        <source>Checking %1…</source>
        <translation>Checking %1…</translation>
    </message>
    <message>
        <source>Choose a CA certificate</source>
        <translation>Choose a CA certificate</translation>
    </message>
    <message>
        <source>A&amp;ddress</source>
        <translation>A&amp;ddress</translation>
    </message>
    <message>
        <source>Use &amp;TLS (encrypted connection)</source>
        <translation>Use &amp;TLS (encrypted connection)</translation>
    </message>
    <message>
        <source>CA ce&amp;rtificate</source>
        <translation>CA ce&amp;rtificate</translation>
    </message>
    <message>
        <source>Use this &amp;server</source>
        <translation>Use this &amp;server</translation>
    </message>
    <message>
        <source>&amp;Username</source>
        <translation>&amp;Username</translation>
    </message>
    <message>
        <source>&amp;Password</source>
        <translation>&amp;Password</translation>
    </message>
    <message>
        <source>Log &amp;in</source>
        <translation>Log &amp;in</translation>
    </message>
    <message>
        <source>Create &amp;account</source>
        <translation>Create &amp;account</translation>
    </message>
    <message>
        <source>Log &amp;out</source>
        <translation>Log &amp;out</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>&amp;Language</translation>
    </message>
    <message>
        <source>&amp;Start HiveMind when I log in</source>
        <translation>&amp;Start HiveMind when I log in</translation>
    </message>
    <message>
        <source>Cache &amp;folder</source>
        <translation>Cache &amp;folder</translation>
    </message>
    <message>
        <source>Show the app's lo&amp;g…</source>
        <translation>Show the app's lo&amp;g…</translation>
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
        <source>Handed back task %2 of job %1: another computer runs it</source>
        <translation>Handed back task %2 of job %1: another computer runs it</translation>
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
        <source>In contact with the server again</source>
        <translation>In contact with the server again</translation>
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
    <message>
        <source>Started the aggregate of job %1</source>
        <translation>Started the aggregate of job %1</translation>
    </message>
    <message>
        <source>Finished the aggregate of job %1</source>
        <translation>Finished the aggregate of job %1</translation>
    </message>
    <message>
        <source>The aggregate of job %1 failed: %3</source>
        <translation>The aggregate of job %1 failed: %3</translation>
    </message>
    <message>
        <source>Earned %4 for the aggregate of job %1</source>
        <translation>Earned %4 for the aggregate of job %1</translation>
    </message>
</context>
<context>
    <name>Chart</name>
    <message>
        <source>Nothing earned in these %1 days.</source>
        <translation>Nothing earned in these %1 days.</translation>
    </message>
    <message>
        <source>%1 days; the best was %2, with %3.</source>
        <translation>%1 days; the best was %2, with %3.</translation>
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
        <source>Stopping: finishing %n task(s) first…</source>
        <translation>
            <numerusform>Stopping: finishing %n task first…</numerusform>
            <numerusform>Stopping: finishing %n tasks first…</numerusform>
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
        <source>&amp;Export CSV…</source>
        <translation>&amp;Export CSV…</translation>
    </message>
    <message>
        <source>&amp;Refresh</source>
        <translation>&amp;Refresh</translation>
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
        <source>Time</source>
        <translation>Time</translation>
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
        <source>Earnings per day</source>
        <translation>Earnings per day</translation>
    </message>
    <message>
        <source>Today (UTC)</source>
        <translation>Today (UTC)</translation>
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
        <source>You were invited to join %1, whose server is at %2.</source>
        <translation>You were invited to join %1, whose server is at %2.</translation>
    </message>
    <message>
        <source>Your account</source>
        <translation>Your account</translation>
    </message>
    <message>
        <source>HiveMind lends this computer's spare power to people who need computing, and pays you for it in CPT.</source>
        <translation>HiveMind lends this computer's spare power to people who need computing, and pays you for it in CPT.</translation>
    </message>
    <message>
        <source>CPT (Computing Power Token) is the network's credit: you earn it when your computer finishes tasks for others, and you spend it to run your own jobs on their computers. A new account starts with a small balance, so you can try that right away.</source>
        <translation>CPT (Computing Power Token) is the network's credit: you earn it when your computer finishes tasks for others, and you spend it to run your own jobs on their computers. A new account starts with a small balance, so you can try that right away.</translation>
    </message>
    <message>
        <source>&amp;Language:</source>
        <translation>&amp;Language:</translation>
    </message>
    <message>
        <source>Your network</source>
        <translation>Your network</translation>
    </message>
    <message>
        <source>&amp;Join %1 (recommended)</source>
        <translation>&amp;Join %1 (recommended)</translation>
    </message>
    <message>
        <source>Use &amp;another server</source>
        <translation>Use &amp;another server</translation>
    </message>
    <message>
        <source>Which network do you want to join? Ask the people who run it for its address, or open the invitation link they sent you.</source>
        <translation>Which network do you want to join? Ask the people who run it for its address, or open the invitation link they sent you.</translation>
    </message>
    <message>
        <source>Server &amp;address:</source>
        <translation>Server &amp;address:</translation>
    </message>
    <message>
        <source>Use &amp;TLS (encrypted connection)</source>
        <translation>Use &amp;TLS (encrypted connection)</translation>
    </message>
    <message>
        <source>Your account keeps your CPT. You can also do this later on the Account tab.</source>
        <translation>Your account keeps your CPT. You can also do this later on the Account tab.</translation>
    </message>
    <message>
        <source>I am &amp;new here</source>
        <translation>I am &amp;new here</translation>
    </message>
    <message>
        <source>I &amp;have an account</source>
        <translation>I &amp;have an account</translation>
    </message>
    <message>
        <source>&amp;Username:</source>
        <translation>&amp;Username:</translation>
    </message>
    <message>
        <source>&amp;Password:</source>
        <translation>&amp;Password:</translation>
    </message>
    <message>
        <source>How to share</source>
        <translation>How to share</translation>
    </message>
    <message>
        <source>HiveMind only uses what you allow, and tasks run in a sandbox that cannot see your files. You can change this any time on the Resources tab.</source>
        <translation>HiveMind only uses what you allow, and tasks run in a sandbox that cannot see your files. You can change this any time on the Resources tab.</translation>
    </message>
    <message>
        <source>When</source>
        <translation>When</translation>
    </message>
    <message>
        <source>&amp;Only while I am not using this computer (recommended)</source>
        <translation>&amp;Only while I am not using this computer (recommended)</translation>
    </message>
    <message>
        <source>&amp;Whenever HiveMind runs</source>
        <translation>&amp;Whenever HiveMind runs</translation>
    </message>
    <message>
        <source>How much</source>
        <translation>How much</translation>
    </message>
    <message>
        <source>A &amp;little: half of one core, %2 memory</source>
        <translation>A &amp;little: half of one core, %2 memory</translation>
    </message>
    <message>
        <source>&amp;Balanced: %1 of %3 cores, %2 memory</source>
        <translation>&amp;Balanced: %1 of %3 cores, %2 memory</translation>
    </message>
    <message>
        <source>&amp;Generous: all %3 cores, %2 memory</source>
        <translation>&amp;Generous: all %3 cores, %2 memory</translation>
    </message>
    <message>
        <source>&amp;Start sharing when I finish</source>
        <translation>&amp;Start sharing when I finish</translation>
    </message>
    <message>
        <source>Enter the server's address.</source>
        <translation>Enter the server's address.</translation>
    </message>
    <message>
        <source>Checking %1…</source>
        <translation>Checking %1…</translation>
    </message>
    <message>
        <source>&amp;Create account</source>
        <translation>&amp;Create account</translation>
    </message>
    <message>
        <source>At least 8 characters.</source>
        <translation>At least 8 characters.</translation>
    </message>
    <message>
        <source>&amp;Log in</source>
        <translation>&amp;Log in</translation>
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
    <message>
        <source>Your balance: %1. Run a job with it on the Submit tab, or earn more by sharing.</source>
        <translation>Your balance: %1. Run a job with it on the Submit tab, or earn more by sharing.</translation>
    </message>
    <message>
        <source>This computer cannot tell when you are using it, so HiveMind would never start. Choose a light share instead, to keep it responsive.</source>
        <translation>This computer cannot tell when you are using it, so HiveMind would never start. Choose a light share instead, to keep it responsive.</translation>
    </message>
    <message>
        <source>HiveMind starts after %1 minutes without mouse or keyboard, and stops as soon as you are back.</source>
        <translation>HiveMind starts after %1 minutes without mouse or keyboard, and stops as soon as you are back.</translation>
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
    <message>
        <source>no NVIDIA graphics card was found</source>
        <translation>no NVIDIA graphics card was found</translation>
    </message>
</context>
<context>
    <name>JobSettings</name>
    <message>
        <source>Compare: %1 (%2 s)</source>
        <translation>Compare: %1 (%2 s)</translation>
    </message>
    <message>
        <source>Compare: %1 (the server's default time limit)</source>
        <translation>Compare: %1 (the server's default time limit)</translation>
    </message>
</context>
<context>
    <name>JobState</name>
    <message>
        <source>waiting</source>
        <translation>waiting</translation>
    </message>
    <message>
        <source>starting</source>
        <translation>starting</translation>
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
        <source>Open lo&amp;gs</source>
        <translation>Open lo&amp;gs</translation>
    </message>
    <message>
        <source>&amp;Download results…</source>
        <translation>&amp;Download results…</translation>
    </message>
    <message>
        <source>Cancel &amp;job</source>
        <translation>Cancel &amp;job</translation>
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
        <source>Select a job in the list first.</source>
        <translation>Select a job in the list first.</translation>
    </message>
    <message>
        <source>No task of this job has finished yet.</source>
        <translation>No task of this job has finished yet.</translation>
    </message>
    <message>
        <source>This job has ended.</source>
        <translation>This job has ended.</translation>
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
    <message>
        <source>Logs of %1 not loaded: %2</source>
        <translation>Logs of %1 not loaded: %2</translation>
    </message>
    <message>
        <source>Cancel this job?</source>
        <translation>Cancel this job?</translation>
    </message>
    <message>
        <source>Cancel %1?</source>
        <translation>Cancel %1?</translation>
    </message>
    <message numerus="yes">
        <source>Its %n unfinished task(s) stop, and none of them will run again. What it has used so far (%1) stays spent; the rest of the %2 held for it comes back to your balance. Results of finished tasks stay available.</source>
        <translation>
            <numerusform>Its %n unfinished task stop, and none of them will run again. What it has used so far (%1) stays spent; the rest of the %2 held for it comes back to your balance. Results of finished tasks stay available.</numerusform>
            <numerusform>Its %n unfinished tasks stop, and none of them will run again. What it has used so far (%1) stays spent; the rest of the %2 held for it comes back to your balance. Results of finished tasks stay available.</numerusform>
        </translation>
    </message>
    <message>
        <source>Cancel the job</source>
        <translation>Cancel the job</translation>
    </message>
    <message>
        <source>Keep it running</source>
        <translation>Keep it running</translation>
    </message>
    <message>
        <source>Metrics per round</source>
        <translation>Metrics per round</translation>
    </message>
    <message>
        <source>Round %1 of %2; aggregate: %3</source>
        <translation>Round %1 of %2; aggregate: %3</translation>
    </message>
</context>
<context>
    <name>LogDialog</name>
    <message>
        <source>Logs of job %1</source>
        <translation>Logs of job %1</translation>
    </message>
    <message>
        <source>Task logs</source>
        <translation>Task logs</translation>
    </message>
    <message>
        <source>No log yet.</source>
        <translation>No log yet.</translation>
    </message>
    <message>
        <source>—— Task %1 (%2) ——</source>
        <translation>—— Task %1 (%2) ——</translation>
    </message>
    <message>
        <source>—— Round %1, aggregate (%2) ——</source>
        <translation>—— Round %1, aggregate (%2) ——</translation>
    </message>
    <message>
        <source>—— Round %1, task %2 (%3) ——</source>
        <translation>—— Round %1, task %2 (%3) ——</translation>
    </message>
    <message>
        <source>(no output)</source>
        <translation>(no output)</translation>
    </message>
    <message>
        <source>Error: %1</source>
        <translation>Error: %1</translation>
    </message>
</context>
<context>
    <name>LogWindow</name>
    <message>
        <source>HiveMind log</source>
        <translation>HiveMind log</translation>
    </message>
    <message>
        <source>What the app did, newest last. It holds no password; share it with the people who run your network when something needs explaining.</source>
        <translation>What the app did, newest last. It holds no password; share it with the people who run your network when something needs explaining.</translation>
    </message>
    <message>
        <source>It is also saved in %1.</source>
        <translation>It is also saved in %1.</translation>
    </message>
    <message>
        <source>&amp;Copy all</source>
        <translation>&amp;Copy all</translation>
    </message>
    <message>
        <source>Log lines</source>
        <translation>Log lines</translation>
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
    <message>
        <source>Stop sharing?</source>
        <translation>Stop sharing?</translation>
    </message>
    <message>
        <source>Finish them, then stop</source>
        <translation>Finish them, then stop</translation>
    </message>
    <message>
        <source>Quit HiveMind?</source>
        <translation>Quit HiveMind?</translation>
    </message>
    <message>
        <source>Finish them, then quit</source>
        <translation>Finish them, then quit</translation>
    </message>
    <message numerus="yes">
        <source>This computer is running %n task(s).</source>
        <translation>
            <numerusform>This computer is running %n task.</numerusform>
            <numerusform>This computer is running %n tasks.</numerusform>
        </translation>
    </message>
    <message>
        <source>Let them finish, and HiveMind stops when the last one is done: you are paid for them. Or hand them back now: they run again on another computer, and this one is not paid for them.</source>
        <translation>Let them finish, and HiveMind stops when the last one is done: you are paid for them. Or hand them back now: they run again on another computer, and this one is not paid for them.</translation>
    </message>
    <message>
        <source>Hand them back now</source>
        <translation>Hand them back now</translation>
    </message>
    <message>
        <source>You are already on %1.</source>
        <translation>You are already on %1.</translation>
    </message>
    <message>
        <source>Join another network?</source>
        <translation>Join another network?</translation>
    </message>
    <message>
        <source>Join %1?</source>
        <translation>Join %1?</translation>
    </message>
    <message>
        <source>HiveMind will use the server at %1. You sign in there with that network's account, and this computer stops sharing with %2.</source>
        <translation>HiveMind will use the server at %1. You sign in there with that network's account, and this computer stops sharing with %2.</translation>
    </message>
    <message>
        <source>Join</source>
        <translation>Join</translation>
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
        <source>Sign in…</source>
        <translation>Sign in…</translation>
    </message>
    <message>
        <source>Hand them back now</source>
        <translation>Hand them back now</translation>
    </message>
    <message>
        <source>&amp;Stop sharing</source>
        <translation>&amp;Stop sharing</translation>
    </message>
    <message>
        <source>&amp;Start sharing</source>
        <translation>&amp;Start sharing</translation>
    </message>
    <message>
        <source>&amp;Resume sharing now</source>
        <translation>&amp;Resume sharing now</translation>
    </message>
    <message>
        <source>&amp;Pause for 1 hour</source>
        <translation>&amp;Pause for 1 hour</translation>
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
    <message>
        <source>aggregate</source>
        <translation>aggregate</translation>
    </message>
</context>
<context>
    <name>PackageWarning</name>
    <message>
        <source>hivemind.toml: %2 in [%1] is not a setting HiveMind knows; it is left out.</source>
        <translation>hivemind.toml: %2 in [%1] is not a setting HiveMind knows; it is left out.</translation>
    </message>
    <message>
        <source>hivemind.toml: the table [%1] is not one HiveMind knows; it is left out.</source>
        <translation>hivemind.toml: the table [%1] is not one HiveMind knows; it is left out.</translation>
    </message>
</context>
<context>
    <name>PauseReason</name>
    <message>
        <source>you paused sharing until %1</source>
        <translation>you paused sharing until %1</translation>
    </message>
    <message>
        <source>outside your sharing schedule; the next window opens %1</source>
        <translation>outside your sharing schedule; the next window opens %1</translation>
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
    <name>Problem</name>
    <message>
        <source>the server</source>
        <translation>the server</translation>
    </message>
    <message>
        <source>Can't reach the server at %1.</source>
        <translation>Can't reach the server at %1.</translation>
    </message>
    <message>
        <source>Check the address or your connection.</source>
        <translation>Check the address or your connection.</translation>
    </message>
    <message>
        <source>Wrong username or password.</source>
        <translation>Wrong username or password.</translation>
    </message>
    <message>
        <source>Check both and try again.</source>
        <translation>Check both and try again.</translation>
    </message>
    <message>
        <source>Too many wrong passwords: signing in to this account is paused for a while.</source>
        <translation>Too many wrong passwords: signing in to this account is paused for a while.</translation>
    </message>
    <message>
        <source>Try again in %1.</source>
        <translation>Try again in %1.</translation>
    </message>
    <message>
        <source>The username %1 is taken.</source>
        <translation>The username %1 is taken.</translation>
    </message>
    <message>
        <source>Choose another.</source>
        <translation>Choose another.</translation>
    </message>
    <message>
        <source>That username cannot be used.</source>
        <translation>That username cannot be used.</translation>
    </message>
    <message>
        <source>Use 3 to 32 letters, digits or underscores.</source>
        <translation>Use 3 to 32 letters, digits or underscores.</translation>
    </message>
    <message>
        <source>The password is too short.</source>
        <translation>The password is too short.</translation>
    </message>
    <message>
        <source>Use at least %1 characters.</source>
        <translation>Use at least %1 characters.</translation>
    </message>
    <message>
        <source>The password is too long.</source>
        <translation>The password is too long.</translation>
    </message>
    <message>
        <source>Use at most %1 characters.</source>
        <translation>Use at most %1 characters.</translation>
    </message>
    <message>
        <source>Too many new accounts were made from your network.</source>
        <translation>Too many new accounts were made from your network.</translation>
    </message>
    <message>
        <source>You are not signed in to %1.</source>
        <translation>You are not signed in to %1.</translation>
    </message>
    <message>
        <source>Sign in on the Account tab.</source>
        <translation>Sign in on the Account tab.</translation>
    </message>
    <message>
        <source>This job may cost up to %1; you have %2, and %3 of starter credit, which pays only for a whole job.</source>
        <translation>This job may cost up to %1; you have %2, and %3 of starter credit, which pays only for a whole job.</translation>
    </message>
    <message>
        <source>This job may cost up to %1, and you have %2.</source>
        <translation>This job may cost up to %1, and you have %2.</translation>
    </message>
    <message>
        <source>Run fewer tasks, give them less time or fewer replicas, or earn CPT by sharing this computer.</source>
        <translation>Run fewer tasks, give them less time or fewer replicas, or earn CPT by sharing this computer.</translation>
    </message>
    <message>
        <source>Your maximum cost is below what this job may need: %1.</source>
        <translation>Your maximum cost is below what this job may need: %1.</translation>
    </message>
    <message>
        <source>Raise the maximum cost, or leave it empty.</source>
        <translation>Raise the maximum cost, or leave it empty.</translation>
    </message>
    <message>
        <source>The server has no runtime called %1.</source>
        <translation>The server has no runtime called %1.</translation>
    </message>
    <message>
        <source>Runtimes it has: %1.</source>
        <translation>Runtimes it has: %1.</translation>
    </message>
    <message>
        <source>You already have %1 unfinished jobs, the most the server allows.</source>
        <translation>You already have %1 unfinished jobs, the most the server allows.</translation>
    </message>
    <message>
        <source>Wait for one to finish, or cancel one.</source>
        <translation>Wait for one to finish, or cancel one.</translation>
    </message>
    <message>
        <source>The server no longer accepts work from this computer.</source>
        <translation>The server no longer accepts work from this computer.</translation>
    </message>
    <message>
        <source>Ask the people who run the network why.</source>
        <translation>Ask the people who run the network why.</translation>
    </message>
    <message>
        <source>HiveMind does not send your password unencrypted to %1.</source>
        <translation>HiveMind does not send your password unencrypted to %1.</translation>
    </message>
    <message>
        <source>Turn on TLS, or check the address with the people who run the network.</source>
        <translation>Turn on TLS, or check the address with the people who run the network.</translation>
    </message>
    <message>
        <source>Something answers at %1, but it is not a HiveMind server.</source>
        <translation>Something answers at %1, but it is not a HiveMind server.</translation>
    </message>
    <message>
        <source>Check the address and the port.</source>
        <translation>Check the address and the port.</translation>
    </message>
    <message>
        <source>The certificate file cannot be read.</source>
        <translation>The certificate file cannot be read.</translation>
    </message>
    <message>
        <source>Choose another file.</source>
        <translation>Choose another file.</translation>
    </message>
    <message>
        <source>That is not a server address.</source>
        <translation>That is not a server address.</translation>
    </message>
    <message>
        <source>Write it as HOST:PORT, for example hive.example.org:50051.</source>
        <translation>Write it as HOST:PORT, for example hive.example.org:50051.</translation>
    </message>
    <message>
        <source>%1 is not an amount of CPT.</source>
        <translation>%1 is not an amount of CPT.</translation>
    </message>
    <message>
        <source>Write it as a number, for example 12.5.</source>
        <translation>Write it as a number, for example 12.5.</translation>
    </message>
    <message>
        <source>Docker is not running on this computer, so tasks cannot run in their sandbox.</source>
        <translation>Docker is not running on this computer, so tasks cannot run in their sandbox.</translation>
    </message>
    <message>
        <source>Start Docker (or install it), then turn sharing on again.</source>
        <translation>Start Docker (or install it), then turn sharing on again.</translation>
    </message>
    <message>
        <source>This package cannot be used.</source>
        <translation>This package cannot be used.</translation>
    </message>
    <message>
        <source>See the details, fix it, and choose it again.</source>
        <translation>See the details, fix it, and choose it again.</translation>
    </message>
    <message>
        <source>The server does not allow this.</source>
        <translation>The server does not allow this.</translation>
    </message>
    <message>
        <source>The server does not know this (it may have been removed).</source>
        <translation>The server does not know this (it may have been removed).</translation>
    </message>
    <message>
        <source>A limit of the server was reached.</source>
        <translation>A limit of the server was reached.</translation>
    </message>
    <message>
        <source>Try again later.</source>
        <translation>Try again later.</translation>
    </message>
    <message>
        <source>The server ran into a problem.</source>
        <translation>The server ran into a problem.</translation>
    </message>
    <message>
        <source>Try again later. If it goes on, tell the people who run the network.</source>
        <translation>Try again later. If it goes on, tell the people who run the network.</translation>
    </message>
    <message>
        <source>The server refused this.</source>
        <translation>The server refused this.</translation>
    </message>
    <message>
        <source>The details say why.</source>
        <translation>The details say why.</translation>
    </message>
    <message>
        <source>The request was interrupted.</source>
        <translation>The request was interrupted.</translation>
    </message>
    <message>
        <source>Try again.</source>
        <translation>Try again.</translation>
    </message>
    <message>
        <source>Something went wrong.</source>
        <translation>Something went wrong.</translation>
    </message>
    <message>
        <source>The details say what.</source>
        <translation>The details say what.</translation>
    </message>
    <message>
        <source>a while</source>
        <translation>a while</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 s</translation>
    </message>
    <message>
        <source>%1 min</source>
        <translation>%1 min</translation>
    </message>
</context>
<context>
    <name>ProblemLine</name>
    <message>
        <source>Details</source>
        <translation>Details</translation>
    </message>
    <message>
        <source>Show what the server or the system said</source>
        <translation>Show what the server or the system said</translation>
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
        <source>Processor &amp;cores</source>
        <translation>Processor &amp;cores</translation>
    </message>
    <message>
        <source>Processor &amp;use</source>
        <translation>Processor &amp;use</translation>
    </message>
    <message>
        <source>&amp;Memory</source>
        <translation>&amp;Memory</translation>
    </message>
    <message>
        <source>&amp;Disk space</source>
        <translation>&amp;Disk space</translation>
    </message>
    <message>
        <source>&amp;Graphics card</source>
        <translation>&amp;Graphics card</translation>
    </message>
    <message>
        <source>All of them</source>
        <translation>All of them</translation>
    </message>
    <message>
        <source>GPUs</source>
        <translation>GPUs</translation>
    </message>
    <message>
        <source>Graphics cards to share</source>
        <translation>Graphics cards to share</translation>
    </message>
    <message>
        <source>How many of this computer's graphics cards to share</source>
        <translation>How many of this computer's graphics cards to share</translation>
    </message>
    <message>
        <source>U&amp;pload limit</source>
        <translation>U&amp;pload limit</translation>
    </message>
    <message>
        <source>Do&amp;wnload limit</source>
        <translation>Do&amp;wnload limit</translation>
    </message>
    <message>
        <source>Only when &amp;idle for</source>
        <translation>Only when &amp;idle for</translation>
    </message>
    <message>
        <source>Pause while on &amp;battery</source>
        <translation>Pause while on &amp;battery</translation>
    </message>
    <message>
        <source>Task is&amp;olation</source>
        <translation>Task is&amp;olation</translation>
    </message>
    <message>
        <source>Share only during the &amp;marked hours</source>
        <translation>Share only during the &amp;marked hours</translation>
    </message>
    <message>
        <source>&amp;Renew this computer's node key every</source>
        <translation>&amp;Renew this computer's node key every</translation>
    </message>
    <message>
        <source>Share the graphics card</source>
        <translation>Share the graphics card</translation>
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
        <source>min</source>
        <translation>min</translation>
    </message>
    <message>
        <source>Always (do not wait)</source>
        <translation>Always (do not wait)</translation>
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
        <source>Security</source>
        <translation>Security</translation>
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
        <source>Sharing hours, Monday to Sunday</source>
        <translation>Sharing hours, Monday to Sunday</translation>
    </message>
    <message>
        <source>Click or drag to mark hours; or use the arrow keys and Space</source>
        <translation>Click or drag to mark hours; or use the arrow keys and Space</translation>
    </message>
    <message>
        <source>no hour is marked</source>
        <translation>no hour is marked</translation>
    </message>
    <message>
        <source>Marked: %1</source>
        <translation>Marked: %1</translation>
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
    <name>ScheduleEditor</name>
    <message>
        <source>every day, all day</source>
        <translation>every day, all day</translation>
    </message>
    <message>
        <source>all day</source>
        <translation>all day</translation>
    </message>
</context>
<context>
    <name>SharingState</name>
    <message>
        <source>Sharing: waiting for work</source>
        <translation>Sharing: waiting for work</translation>
    </message>
    <message>
        <source>Paused: you paused sharing until %1</source>
        <translation>Paused: you paused sharing until %1</translation>
    </message>
    <message>
        <source>Paused: you paused sharing</source>
        <translation>Paused: you paused sharing</translation>
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
    <message>
        <source>Stopping</source>
        <translation>Stopping</translation>
    </message>
</context>
<context>
    <name>StoppingDialog</name>
    <message>
        <source>Quitting HiveMind</source>
        <translation>Quitting HiveMind</translation>
    </message>
    <message>
        <source>Hand them back now</source>
        <translation>Hand them back now</translation>
    </message>
    <message>
        <source>Stop the tasks now: they run again on another computer, unpaid here</source>
        <translation>Stop the tasks now: they run again on another computer, unpaid here</translation>
    </message>
    <message>
        <source>Stopping sharing and closing…</source>
        <translation>Stopping sharing and closing…</translation>
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
        <source>A folder or zip with hivemind.toml: choose, paste or drop it here</source>
        <translation>A folder or zip with hivemind.toml: choose, paste or drop it here</translation>
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
        <source>s</source>
        <translation>s</translation>
    </message>
    <message>
        <source>Run each task on this many computers of different people and compare</source>
        <translation>Run each task on this many computers of different people and compare</translation>
    </message>
    <message>
        <source>the worst case</source>
        <translation>the worst case</translation>
    </message>
    <message>
        <source>&amp;Package</source>
        <translation>&amp;Package</translation>
    </message>
    <message>
        <source>&amp;Folder…</source>
        <translation>&amp;Folder…</translation>
    </message>
    <message>
        <source>&amp;Zip…</source>
        <translation>&amp;Zip…</translation>
    </message>
    <message>
        <source>&amp;Name</source>
        <translation>&amp;Name</translation>
    </message>
    <message>
        <source>R&amp;untime</source>
        <translation>R&amp;untime</translation>
    </message>
    <message>
        <source>Co&amp;mmand</source>
        <translation>Co&amp;mmand</translation>
    </message>
    <message>
        <source>Number of &amp;tasks</source>
        <translation>Number of &amp;tasks</translation>
    </message>
    <message>
        <source>One task per &amp;input file</source>
        <translation>One task per &amp;input file</translation>
    </message>
    <message>
        <source>&amp;Add files…</source>
        <translation>&amp;Add files…</translation>
    </message>
    <message>
        <source>Clea&amp;r</source>
        <translation>Clea&amp;r</translation>
    </message>
    <message>
        <source>&amp;Cores</source>
        <translation>&amp;Cores</translation>
    </message>
    <message>
        <source>M&amp;emory</source>
        <translation>M&amp;emory</translation>
    </message>
    <message>
        <source>Time &amp;limit</source>
        <translation>Time &amp;limit</translation>
    </message>
    <message>
        <source>Re&amp;plicas</source>
        <translation>Re&amp;plicas</translation>
    </message>
    <message>
        <source>Pri&amp;ority</source>
        <translation>Pri&amp;ority</translation>
    </message>
    <message>
        <source>Ma&amp;ximum cost (CPT)</source>
        <translation>Ma&amp;ximum cost (CPT)</translation>
    </message>
    <message>
        <source>&amp;Submit</source>
        <translation>&amp;Submit</translation>
    </message>
    <message>
        <source>Input files</source>
        <translation>Input files</translation>
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
        <source>There is no folder or zip at %1.</source>
        <translation>There is no folder or zip at %1.</translation>
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
</context>
<context>
    <name>TaskError</name>
    <message>
        <source>exited with code %1 (killed by signal %2)</source>
        <translation>exited with code %1 (killed by signal %2)</translation>
    </message>
    <message>
        <source>exited with code %1</source>
        <translation>exited with code %1</translation>
    </message>
    <message>
        <source>timed out after %1 s</source>
        <translation>timed out after %1 s</translation>
    </message>
    <message>
        <source>killed: out of memory (limit %1 MB)</source>
        <translation>killed: out of memory (limit %1 MB)</translation>
    </message>
    <message>
        <source>killed: disk limit exceeded (%1 MB)</source>
        <translation>killed: disk limit exceeded (%1 MB)</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>cancelled</translation>
    </message>
    <message>
        <source>this computer stopped before the task finished; it runs elsewhere</source>
        <translation>this computer stopped before the task finished; it runs elsewhere</translation>
    </message>
    <message>
        <source>the runtime image %1 is not on this computer</source>
        <translation>the runtime image %1 is not on this computer</translation>
    </message>
    <message>
        <source>the task's container disappeared before it ended</source>
        <translation>the task's container disappeared before it ended</translation>
    </message>
    <message>
        <source>Docker is not running (%1)</source>
        <translation>Docker is not running (%1)</translation>
    </message>
    <message>
        <source>the server did not accept the result: %1</source>
        <translation>the server did not accept the result: %1</translation>
    </message>
    <message>
        <source>the task could not be prepared: %1</source>
        <translation>the task could not be prepared: %1</translation>
    </message>
    <message>
        <source>the task's files could not be fetched: %1</source>
        <translation>the task's files could not be fetched: %1</translation>
    </message>
    <message>
        <source>compare command: %1</source>
        <translation>compare command: %1</translation>
    </message>
</context>
<context>
    <name>TaskLog</name>
    <message>
        <source>[… %1 bytes of the log left out here …]</source>
        <translation>[… %1 bytes of the log left out here …]</translation>
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
<context>
    <name>Waiting</name>
    <message>
        <source>waiting: no node with a free GPU is online</source>
        <translation>waiting: no node with a free GPU is online</translation>
    </message>
    <message>
        <source>waiting: %1</source>
        <translation>waiting: %1</translation>
    </message>
</context>
</TS>
