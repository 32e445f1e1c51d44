"""German messages (formal "Sie"). Keys are shared with en.py."""

MESSAGES: dict = {
    # -- checks.py ---------------------------------------------------------------------------------
    "check.for_inputs": " für {inputs}",
    "check.not_array": "{what}{ctx} lieferte {got}, erwartet war {expected}{hint}.",
    "check.an_array": "ein numpy.ndarray",
    "check.an_array_of_shape": "ein numpy.ndarray der Form {shape}",
    "check.convert_hint": " (umwandeln mit np.array(...))",
    "check.wrong_shape": "{what}{ctx} lieferte die Form {got}, erwartet war {expected}.",
    "check.shape_swapped": " Die Größen stimmen, aber in anderer Reihenfolge: sind Achsen vertauscht oder transponiert?",
    "check.shape_reshape": " Die Anzahl der Einträge stimmt: fehlt ein reshape, oder ist eines zu viel?",
    "check.wrong_dtype": "{what}{ctx} lieferte den dtype {got}, erwartet war {expected}.",
    "check.nonfinite": {"one": "{what}{ctx} enthält NaN oder inf ({n} Eintrag, bei Index {index}).",
                        "other": "{what}{ctx} enthält NaN oder inf ({n} Einträge, der erste bei Index {index})."},
    "check.values_wrong": {"one": "{what}{ctx} ist falsch: {n} von {size} Werten weicht ab (Toleranz rtol={rtol}, atol={atol}).",
                           "other": "{what}{ctx} ist falsch: {n} von {size} Werten weichen ab (Toleranz rtol={rtol}, atol={atol})."},
    "check.largest_error": "Größter Fehler {err} bei Index {index}: erhalten {got}, erwartet {expected}.",
    "check.largest_error_at": "Der größte Fehler liegt bei Index {index}.",
    "check.cases_wrong": {"one": "{what} ist in {n} von {total} Fällen falsch.",
                          "other": "{what} ist in {n} von {total} Fällen falsch."},
    "check.first_case": "Erster falscher Fall{label}:",
    "check.mistake": "Ihr Ergebnis passt zu einem bekannten Fehler: {name}.",
    "check.mistake_all_cases": "Ihr Ergebnis passt in allen geprüften Fällen zu einem bekannten Fehler: {name}.",
    "check.float_wrong": "{what} ist falsch: erhalten {got}, erwartet {expected}.",
    "check.float_wrong_hidden": "{what} ist falsch.",
    "check.bool_not_float": "{what} lieferte einen bool, erwartet war eine Gleitkommazahl (float).",
    "check.not_float": "{what} lieferte {got}, erwartet war eine Gleitkommazahl (float).",
    "check.raised_other": "{what} löste {got}: {message} aus, erwartet war {expected}.",
    "check.not_raised": "{what} hat keinen {expected} ausgelöst.",
    "check.the_result": "das Ergebnis",
    "check.the_call": "der Aufruf",
    "describe.ndarray": "ein ndarray der Form {shape} mit dtype {dtype}",
    "describe.numpy_scalar": "einen NumPy-Skalar {type}",
    "describe.object": "ein Objekt vom Typ {type}",
    "describe.value": "einen Wert vom Typ {type}",
    # -- engine: errors.py, student.py, sandbox.py, zygote.py, staticcheck.py ------------------------
    "err.raised": "Ihr Code löste {type} aus: {message}",
    "err.read_only_hint": ("Hinweis: Eingaben werden schreibgeschützt übergeben. Ihre Funktion ändert ein "
                           "Eingabe-Array direkt; arbeiten Sie auf einer Kopie (z. B. x = x.copy()) oder "
                           "erzeugen Sie ein neues Array."),
    "err.not_implemented": "Noch nicht implementiert ({message}).",
    "err.timeout": ("{what} lief länger als {seconds} s und wurde abgebrochen. Suchen Sie nach einer "
                    "Endlosschleife oder einer Berechnung, die viel langsamer ist als nötig (die anderen "
                    "Tests liefen trotzdem weiter)."),
    "err.timeout_repeat": ("{what} wurde schon nach {seconds} s abgebrochen: Diese Funktion hat bereits in einem "
                           "früheren Test ihr Zeitlimit überschritten, deshalb bekommt sie jetzt nur noch ein kurzes "
                           "Zeitlimit. Suchen Sie nach einer Endlosschleife."),
    "err.timeout_refused": ("{what} wurde nicht mehr ausgeführt: Diese Funktion hat schon mehrfach ihr Zeitlimit "
                            "überschritten, und die Zeit für abgebrochene Aufrufe in dieser Aufgabe ist aufgebraucht. "
                            "Suchen Sie nach einer Endlosschleife."),
    "err.timeout_budget": ("{what} wurde nach {seconds} s abgebrochen. In dieser Aufgabe lief schon ein anderer "
                           "Aufruf in sein Zeitlimit, deshalb gilt für weitere Aufrufe ein kurzes Zeitlimit. Suchen "
                           "Sie nach einer Endlosschleife."),
    "err.crash": "Der Python-Prozess mit Ihrem Code endete bei {what}: {how}.",
    "err.import_timeout": ("Der Import von {file} dauerte länger als {seconds} s. Code auf Modulebene läuft beim "
                           "Import: Steht dort eine Endlosschleife oder eine lange Berechnung außerhalb einer "
                           "Funktion?"),
    "err.import_failed": "{file} konnte nicht importiert werden: {type}: {message}",
    "err.import_crash": "Der Import von {file} beendete den Python-Prozess: {how}.",
    "err.too_large": "{what} schickte eine Nachricht zurück, die größer als {mib} MiB ist (das Ergebnis ist zu groß).",
    "err.not_plain_data": "{what} lieferte einen Wert, den der Grader nicht annimmt: {detail}.",
    "err.unreadable": "{what} lieferte einen Wert, den der Grader nicht lesen konnte ({detail}).",
    "err.malformed_reply": "{what} schickte eine fehlerhafte Antwort zurück.",
    "err.cannot_grade": "{what} lieferte etwas, das nicht bewertet werden kann: {detail}",
    "err.connection_broke": "die Verbindung brach ab ({detail})",
    "err.object_lost": ("dieses Objekt ging verloren, als die Sandbox nach einem früheren Fehler neu gestartet "
                        "wurde"),
    "err.not_callable": "{label} ist keine Funktion und keine Klasse (sondern vom Typ {type}).",
    "err.len_not_int": "len({label}) lieferte {type}, erwartet war int.",
    "what.start": "dem Start der Sandbox",
    "what.import": "dem Import von {file}",
    "what.use": "der Verwendung von {label}",
    "output.more": {"one": "[... {n} weiteres Zeichen der Ausgabe nicht angezeigt]",
                    "other": "[... {n} weitere Zeichen der Ausgabe nicht angezeigt]"},
    "sandbox.blocked": ("{pkg} ist bei der Bewertung nicht verfügbar: Die Aufgaben dieses Kurses sind nur mit "
                        "NumPy zu lösen."),
    "sandbox.sys_exit": "sys.exit({code}) wurde aufgerufen; eine bewertete Funktion muss einen Wert zurückgeben.",
    "sandbox.ndarray_subclass": ("es ist eine Unterklasse von numpy.ndarray ({type}); geben Sie ein einfaches "
                                 "numpy.ndarray zurück, z. B. np.asarray(result)"),
    "sandbox.ndarray_dtype": ("es ist ein Array mit dtype {dtype}; nur numerische Arrays (bool, int, float, "
                              "complex) können bewertet werden"),
    "sandbox.not_callable": "{name} ist keine Funktion und keine Methode (sondern vom Typ {type})",
    "sandbox.too_large_arrays": ("es ist zu groß: {size} MiB an Arrays, höchstens {cap} MiB können "
                                 "zurückgeschickt werden"),
    "sandbox.too_large": "es ist zu groß: {size} MiB, höchstens {cap} MiB können zurückgeschickt werden",
    "sandbox.cannot_send": "das Ergebnis kann nicht zurückgeschickt werden: {detail}",
    "status.SIGSEGV": "ein Speicherzugriffsfehler (segmentation fault; oft ein Überlauf des C-Stacks durch sehr tiefe Rekursion)",
    "status.SIGKILL": "er wurde beendet (Speicher- oder CPU-Zeitlimit oder Zeitüberschreitung)",
    "status.SIGXCPU": "er hat sein CPU-Zeitlimit aufgebraucht",
    "status.SIGXFSZ": "er hat eine Datei geschrieben, die größer ist als erlaubt",
    "status.SIGABRT": "er hat abgebrochen (ein interner Fehler in einer Bibliothek, oft Speichermangel)",
    "status.SIGBUS": "ein Busfehler (bus error)",
    "status.signal": "er wurde durch das Signal {name} beendet",
    "status.exit": "er endete mit dem Status {code} (sys.exit oder os._exit in Ihrem Code?)",
    "status.stopped": "er antwortete nicht mehr",
    "static.missing": "{name} wurde nicht abgegeben (es gibt keine Datei mit genau diesem Namen).",
    "static.too_large": "{name} ist {kib} KiB groß; Quelldateien über {mib} MiB werden nicht bewertet.",
    "static.not_utf8": ("{name} ist kein UTF-8-Text (Byte {pos} lässt sich nicht dekodieren). Speichern Sie die "
                        "Datei in Ihrem Editor als UTF-8."),
    "static.nul": "{name} enthält NUL-Bytes: Das ist keine Python-Quelldatei.",
    "static.syntax": ("{name} hat einen Syntaxfehler in Zeile {line} (SyntaxError: {msg}). Führen Sie die Datei "
                      "einmal mit python aus, um ihn zu sehen."),
    "static.syntax_nowhere": ("{name} hat einen Syntaxfehler (SyntaxError: {msg}). Führen Sie die Datei einmal mit "
                              "python aus, um ihn zu sehen."),
    "static.too_deep": "{name} ist zu tief verschachtelt, um gelesen zu werden.",
    "static.forbidden": ("{name} verwendet {pkg} (Zeile {line}). Diese Aufgabe ist nur mit NumPy zu lösen "
                         "(ohne {banned})."),
    # -- plugin.py ---------------------------------------------------------------------------------
    "plugin.skipped": "Dieser Test wurde übersprungen und bringt daher keine Punkte.",
    "plugin.sandbox_unavailable": "Der Grader konnte Ihren Code nicht ausführen (nicht Ihr Fehler): {detail}",
    "plugin.grader_defect": "Der Test des Graders ist selbst fehlgeschlagen (nicht Ihr Fehler): {error}",
    "plugin.grader_defect_hidden": ("Der Test des Graders ist selbst fehlgeschlagen (nicht Ihr Fehler); die "
                                    "Kursbetreuung kümmert sich darum."),
    "plugin.unusable_result": ("Der Test konnte Ihr Ergebnis nicht verwenden ({error}). Vergleichen Sie Typ, Form "
                               "und dtype Ihres Ergebnisses mit der Aufgabe."),
    "plugin.unusable_result_hidden": ("Der Test konnte Ihr Ergebnis nicht verwenden. Vergleichen Sie Typ, Form und "
                                      "dtype Ihres Ergebnisses mit der Aufgabe."),
    "plugin.check_failed": "Eine Prüfung ist fehlgeschlagen.",
    "plugin.hidden_not_implemented": "Noch nicht implementiert (NotImplementedError).",
    "plugin.hidden_exception": "Ihr Code löste eine Ausnahme aus.",
    "plugin.hidden_timeout": ("Ein Aufruf Ihres Codes lief länger als sein Zeitlimit und wurde abgebrochen. Suchen "
                              "Sie nach einer Endlosschleife oder einer Berechnung, die viel langsamer ist als nötig."),
    "plugin.hidden_crash": ("Der Python-Prozess mit Ihrem Code endete während dieses Tests (Exit, Signal oder "
                            "Speicherlimit)."),
    "plugin.hidden_import": "Ihre Datei konnte nicht importiert werden (die öffentlichen Tests zeigen, warum).",
    "plugin.hidden_bad_return": ("Ihr Code lieferte einen Wert, den der Grader nicht annimmt (zu groß oder keine "
                                 "einfachen Daten: Zahlen, Strings, Listen, Tupel, Dicts mit str- oder int-Schlüsseln, "
                                 "NumPy-Arrays)."),
    "plugin.hidden_note": ("(Verdeckter Test: Meldungen, Tracebacks und Ausgaben Ihres Codes werden nicht "
                           "angezeigt.)"),
    "plugin.running": "läuft",
    # -- reports: terminal, feedback.md/html, Gradescope -------------------------------------------
    "report.points": {"one": "{n_text} Punkt", "other": "{n_text} Punkte"},
    "report.up_to_points": {"one": "bis zu {n_text} Punkt", "other": "bis zu {n_text} Punkte"},
    "report.tests": {"one": "{n} Test", "other": "{n} Tests"},
    "report.total": "Gesamt: {score} / {max_score}",
    "report.total_public": " (öffentliche Tests; verdeckte Tests kommen bei der Abgabe dazu)",
    "report.sum": "Summe",
    "report.pass": "OK",
    "report.fail": "FEHLER",
    "report.open": "offen",
    "report.manual_note": "(wird von Tutor*innen bewertet)",
    "report.hidden_extra": "(+{points} in verdeckten Tests)",
    "report.findings": "Befunde",
    "report.no_message": "(keine Meldung)",
    "report.your_output": "Ausgabe Ihres Codes:",
    "report.sandbox_note": "Hinweis zur Sandbox: {notes}",
    "report.not_implemented": "Noch nicht implementiert ({tests}).",
    "report.affects": {"one": "in {n} von {total} Tests; Meldung:",
                       "other": "in {n} von {total} Tests; erste Meldung:"},
    "report.affects_exercise": {"one": "betrifft {n} Test (Teile {parts}):",
                                "other": "betrifft alle {n} Tests der Teile {parts}:"},
    "report.root_cause": ("Hinweis: Teil {part} hängt womöglich von Teil {earlier} ab, der noch Fehler hat. "
                          "Beheben Sie zuerst Teil {earlier}."),
    "report.more_lines": {"one": "[... {n} weitere Zeile]", "other": "[... {n} weitere Zeilen]"},
    "report.missing_files": "Datei fehlt: {files}",
    "report.missing": "Datei fehlt",
    "report.error": "Fehler: {why}",
    "report.error_plain": "Fehler",
    "report.hidden": "verdeckt",
    "report.same_as": "Gleicher Befund wie im Test {name} (siehe dort).",
    "report.also_affects": {"one": "(Gleicher Befund in {n} weiteren Test.)",
                            "other": "(Gleicher Befund in {n} weiteren Tests.)"},
    "report.part": "Teil {part}",
    "report.exercise": "Aufgabe {exercise}",
    "report.progress": "{exercise} {part}: {name} ... ({i}/{n})",
    "cli.not_folder": "Fehler: {folder} ist kein Ordner.",
    "cli.missing_files": "Fehler: In {folder} fehlen Dateien: {files}",
    "cli.grader_failed": "Fehler: Der Grader konnte nicht laufen (nicht Ihr Fehler): {detail}",
    "fmt.decimal": ",",
}
