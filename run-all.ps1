#!/usr/bin/env pwsh
# Runs every registered experiment (abba all), passing any arguments through, and exits with abba's exit code.
# Example: ./run-all.ps1 --profile paper --seeds 3 --device cuda
# All logic lives in the CLI; see README.md for the options and exit codes.
#Requires -Version 7.0
Push-Location $PSScriptRoot
try {
    dotnet run --project Abba.Experiments -c Release -- all @args
    $code = $LASTEXITCODE
}
finally {
    Pop-Location
}
exit $code
