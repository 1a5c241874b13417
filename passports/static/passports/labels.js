// The label sheet's print button (a script file: the admin's pages allow no inline script).
document.getElementById("labels-print").addEventListener("click", () => window.print());
