; HiveMind for Windows: Inno Setup 6 script for a per-user install (no administrator rights).
;
;   python packaging\build.py                                    (dist\hivemind\ first)
;   iscc /DAppVersion=0.1.0 packaging\windows\hivemind.iss
;
; -> dist\hivemind-<version>-windows-x64-setup.exe. Silent install (CI, managed desktops):
;   hivemind-<version>-windows-x64-setup.exe /VERYSILENT /SUPPRESSMSGBOXES /DIR=...
;
; Paths are relative to this file. The Run value name ("HiveMind") and its "--background"
; argument are the ones app/ui/autostart.py writes, so the installer's "start at login" box
; and the app's own switch are one and the same setting.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef BundleDir
  #define BundleDir "..\..\dist\hivemind"
#endif
#define AppName "HiveMind"
#define AppExe "hivemind-app.exe"
#define CliExe "hivemind.exe"
#define RunKey "Software\Microsoft\Windows\CurrentVersion\Run"

[Setup]
; The AppId identifies the install across upgrades: never change it.
AppId={{512E0E21-FC9B-4AD7-86D7-684EBE448495}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=HiveMind developers
VersionInfoVersion={#AppVersion}
; Per user: installs under %LOCALAPPDATA%\Programs, writes only HKCU, no UAC prompt.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
LicenseFile=..\..\LICENSE.txt
OutputDir=..\..\dist
OutputBaseFilename=hivemind-{#AppVersion}-windows-x64-setup
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; An upgrade over a running app: close what still holds files (after StopHiveMind below).
CloseApplications=force
ChangesEnvironment=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "startatlogin"; Description: "Start {#AppName} in the tray when I log in"; \
  GroupDescription: "Startup:"; Flags: unchecked
Name: "addtopath"; Description: "Add the hivemind command to my PATH"; \
  GroupDescription: "Command line:"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"; Comment: "Share idle computing power and earn CPT"
Name: "{group}\Uninstall {#AppName}"; Filename: "{uninstallexe}"

[Registry]
Root: HKCU; Subkey: "{#RunKey}"; ValueType: string; ValueName: "{#AppName}"; \
  ValueData: """{app}\{#AppExe}"" --background"; Tasks: startatlogin; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; \
  ValueData: "{olddata};{app}"; Tasks: addtopath; Check: NeedsAddPath(ExpandConstant('{app}'))
; hivemind://join links (invitations to a network) open the app with the link.
Root: HKCU; Subkey: "Software\Classes\hivemind"; ValueType: string; ValueName: ""; \
  ValueData: "URL:HiveMind invitation"; Flags: uninsdeletekey
Root: HKCU; Subkey: "Software\Classes\hivemind"; ValueType: string; ValueName: "URL Protocol"; \
  ValueData: ""
Root: HKCU; Subkey: "Software\Classes\hivemind\shell\open\command"; ValueType: string; \
  ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""

[Run]
Filename: "{app}\{#AppExe}"; Description: "Start {#AppName} now"; \
  Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Settings, credentials and the task cache live in %APPDATA%\HiveMind and are kept, so a
; reinstall finds the same identity; only what the app writes beside itself goes.
Type: filesandordirs; Name: "{app}\_internal\__pycache__"

[Code]
var
  DockerPage: TOutputMsgWizardPage;

{ True when docker.exe is on PATH or where Docker Desktop installs it. }
function DockerFound(): Boolean;
var
  Paths, Dir: String;
  Sep: Integer;
begin
  Result := FileExists(ExpandConstant('{commonpf64}\Docker\Docker\resources\bin\docker.exe'));
  Paths := GetEnv('PATH');
  while (not Result) and (Paths <> '') do
  begin
    Sep := Pos(';', Paths);
    if Sep = 0 then
    begin
      Dir := Paths;
      Paths := '';
    end else begin
      Dir := Copy(Paths, 1, Sep - 1);
      Delete(Paths, 1, Sep);
    end;
    if (Dir <> '') and FileExists(AddBackslash(Dir) + 'docker.exe') then
      Result := True;
  end;
end;

{ True when Dir is not yet in the user's PATH (so a reinstall does not add it twice). }
function NeedsAddPath(Dir: String): Boolean;
var
  Current: String;
begin
  if not RegQueryStringValue(HKCU, 'Environment', 'Path', Current) then
  begin
    Result := True;
    exit;
  end;
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Current) + ';') = 0;
end;

procedure RemoveFromPath(Dir: String);
var
  Current: String;
  At: Integer;
begin
  if not RegQueryStringValue(HKCU, 'Environment', 'Path', Current) then
    exit;
  At := Pos(';' + Uppercase(Dir), Uppercase(Current));
  if At > 0 then
  begin
    Delete(Current, At, Length(Dir) + 1);
    RegWriteExpandStringValue(HKCU, 'Environment', 'Path', Current);
  end;
end;

{ Asks the app and any headless worker to close, then ends what is left: files in use
  cannot be replaced or removed. }
procedure StopHiveMind();
var
  Code: Integer;
begin
  Exec(ExpandConstant('{sys}\taskkill.exe'), '/IM {#AppExe} /T', '', SW_HIDE,
    ewWaitUntilTerminated, Code);
  Sleep(1500);
  Exec(ExpandConstant('{sys}\taskkill.exe'), '/F /IM {#AppExe} /T', '', SW_HIDE,
    ewWaitUntilTerminated, Code);
  Exec(ExpandConstant('{sys}\taskkill.exe'), '/F /IM {#CliExe} /T', '', SW_HIDE,
    ewWaitUntilTerminated, Code);
end;

procedure InitializeWizard();
begin
  { Shown after the welcome page, only when Docker is missing: without it the app installs
    and runs, but cannot contribute with the default sandbox. }
  DockerPage := CreateOutputMsgPage(wpWelcome,
    'Docker Desktop is not installed',
    'HiveMind runs other people''s tasks inside Docker containers.',
    'Docker Desktop was not found on this computer. HiveMind will install and you can ' +
    'submit jobs and manage your account, but to lend this computer''s power you need ' +
    'Docker Desktop:' + #13#10 + #13#10 +
    '1. Turn on WSL 2: open PowerShell as administrator, run "wsl --install", restart.' +
    #13#10 +
    '2. Install Docker Desktop from docker.com and keep "Use WSL 2 based engine" on.' +
    #13#10 +
    '3. Start Docker Desktop once, then HiveMind (it finds Docker by itself).' +
    #13#10 + #13#10 +
    'You can finish this setup now and install Docker Desktop later.');
end;

function ShouldSkipPage(PageID: Integer): Boolean;
begin
  Result := (PageID = DockerPage.ID) and DockerFound();
end;

function PrepareToInstall(var NeedsRestart: Boolean): String;
begin
  StopHiveMind();
  Result := '';
end;

function InitializeUninstall(): Boolean;
begin
  StopHiveMind();
  Result := True;
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if CurUninstallStep = usPostUninstall then
  begin
    { The app's own "start at login" switch may have set this even if the task was off. }
    RegDeleteValue(HKCU, '{#RunKey}', '{#AppName}');
    RemoveFromPath(ExpandConstant('{app}'));
  end;
end;
