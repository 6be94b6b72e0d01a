; Inno Setup script for the Windows installer (Inno Setup 6). Build the bundle first
; (pyinstaller packaging\artstudio.spec on Windows), then, from the repository root:
;   iscc /DAppVersion=0.1.0 packaging\windows\artstudio.iss
; It writes dist\Artstudio-<version>-setup.exe. See packaging/README.md (not built yet).

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
AppId={{6A3E9C1B-5F2D-4B7A-9E41-2C8D7F0B3A65}
AppName=Artstudio
AppVersion={#AppVersion}
AppPublisher=Artstudio maintainers
DefaultDirName={autopf}\Artstudio
DefaultGroupName=Artstudio
DisableProgramGroupPage=yes
OutputDir=..\..\dist
OutputBaseFilename=Artstudio-{#AppVersion}-setup
SetupIconFile=..\..\artstudio\data\icons\artstudio.ico
UninstallDisplayIcon={app}\Artstudio.exe
Compression=lzma2/fast
SolidCompression=no
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
ChangesAssociations=yes
ChangesEnvironment=yes
; Installing over an older version replaces the program folder only; settings and
; models live in %APPDATA%\Artstudio and %LOCALAPPDATA%\Artstudio and are kept.
CloseApplications=yes

[Files]
Source: "..\..\dist\Artstudio\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Artstudio"; Filename: "{app}\Artstudio.exe"
Name: "{autodesktop}\Artstudio"; Filename: "{app}\Artstudio.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked
Name: "addtopath"; Description: "Add the artstudio command line (artstudio-cli) to PATH"

[Registry]
; .ora belongs to Artstudio; the usual image types only offer it under "Open with".
Root: HKA; Subkey: "Software\Classes\.ora"; ValueType: string; ValueName: ""; ValueData: "Artstudio.ora"; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\Artstudio.ora"; ValueType: string; ValueName: ""; ValueData: "OpenRaster image"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Artstudio.ora\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\Artstudio.exe,0"
Root: HKA; Subkey: "Software\Classes\Artstudio.ora\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\Artstudio.exe"" ""%1"""
Root: HKA; Subkey: "Software\Classes\Applications\Artstudio.exe\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\Artstudio.exe"" ""%1"""; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\.png\OpenWithProgids"; ValueType: string; ValueName: "Artstudio.ora"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.jpg\OpenWithProgids"; ValueType: string; ValueName: "Artstudio.ora"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.jpeg\OpenWithProgids"; ValueType: string; ValueName: "Artstudio.ora"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.webp\OpenWithProgids"; ValueType: string; ValueName: "Artstudio.ora"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.tif\OpenWithProgids"; ValueType: string; ValueName: "Artstudio.ora"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.tiff\OpenWithProgids"; ValueType: string; ValueName: "Artstudio.ora"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.bmp\OpenWithProgids"; ValueType: string; ValueName: "Artstudio.ora"; ValueData: ""; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Tasks: addtopath; Check: NotOnPath(ExpandConstant('{app}'))

[UninstallDelete]
; Files written into the program folder at run time go with it (never the settings).
Type: filesandordirs; Name: "{app}"

[Run]
Filename: "{app}\Artstudio.exe"; Description: "Start Artstudio"; Flags: nowait postinstall skipifsilent

[Code]
function NotOnPath(Dir: string): Boolean;
var
  Path: string;
begin
  if not RegQueryStringValue(HKCU, 'Environment', 'Path', Path) then
    Path := '';
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Path) + ';') = 0;
end;
