# Windows: install the setup silently for the current user, check what it created, run the
# frozen smoke test (packaging/smoke_test.py) on the installed executables, then uninstall
# and check that the uninstaller left nothing behind.
#
#   pwsh packaging/windows/smoke-test.ps1 [-Setup dist\hivemind-...-setup.exe] [-Python py]
#                                         [-SmokeArgs @("--skip-network")]
param(
    [string]$Setup = "",
    [string]$Python = "python",
    [string[]]$SmokeArgs = @()
)
$ErrorActionPreference = "Stop"
$repo = Resolve-Path (Join-Path $PSScriptRoot "..\..")
if (-not $Setup) {
    $Setup = Get-ChildItem (Join-Path $repo "dist") -Filter "hivemind-*-windows-x64-setup.exe" |
        Sort-Object LastWriteTime -Descending | Select-Object -First 1 -ExpandProperty FullName
}
if (-not $Setup -or -not (Test-Path $Setup)) { throw "no setup to test: run iscc first" }

$dir = Join-Path $env:TEMP ("hivemind-smoke-" + [guid]::NewGuid().ToString("N").Substring(0, 8))
$log = "$dir-setup.log"
# /TASKS picks the optional tasks a user would tick: start at login and PATH.
$p = Start-Process -FilePath $Setup -Wait -PassThru -ArgumentList @(
    "/VERYSILENT", "/SUPPRESSMSGBOXES", "/NORESTART", "/DIR=`"$dir`"",
    "/TASKS=`"startatlogin,addtopath`"", "/LOG=`"$log`"")
if ($p.ExitCode -ne 0) { Get-Content $log -Tail 40; throw "setup exited $($p.ExitCode)" }

$runKey = "HKCU:\Software\Microsoft\Windows\CurrentVersion\Run"
foreach ($exe in @("hivemind-app.exe", "hivemind.exe")) {
    if (-not (Test-Path (Join-Path $dir $exe))) { throw "the setup did not install $exe" }
}
$startMenu = Join-Path $env:APPDATA "Microsoft\Windows\Start Menu\Programs\HiveMind\HiveMind.lnk"
if (-not (Test-Path $startMenu)) { throw "no Start menu entry at $startMenu" }
$run = (Get-ItemProperty -Path $runKey -Name "HiveMind" -ErrorAction SilentlyContinue).HiveMind
if ($run -notlike "*hivemind-app.exe*--background") { throw "start-at-login value is '$run'" }
$userPath = [Environment]::GetEnvironmentVariable("Path", "User")
if ($userPath -notlike "*$dir*") { throw "the install folder is not on the user's PATH" }
Write-Host "smoke: installed in $dir with a Start menu entry, start at login and PATH"

& $Python (Join-Path $repo "packaging\smoke_test.py") --bin-dir $dir @SmokeArgs
if ($LASTEXITCODE -ne 0) { throw "the frozen smoke test failed" }

$p = Start-Process -FilePath (Join-Path $dir "unins000.exe") -Wait -PassThru `
    -ArgumentList @("/VERYSILENT", "/SUPPRESSMSGBOXES", "/NORESTART")
if ($p.ExitCode -ne 0) { throw "the uninstaller exited $($p.ExitCode)" }
Start-Sleep -Seconds 2  # the uninstaller removes itself from a child process
if (Test-Path (Join-Path $dir "hivemind-app.exe")) { throw "the uninstaller left the app behind" }
if (Get-ItemProperty -Path $runKey -Name "HiveMind" -ErrorAction SilentlyContinue) {
    throw "the uninstaller left the start-at-login value"
}
$userPath = [Environment]::GetEnvironmentVariable("Path", "User")
if ($userPath -like "*$dir*") { throw "the uninstaller left the folder on PATH" }
Write-Host "smoke: uninstalled cleanly"
