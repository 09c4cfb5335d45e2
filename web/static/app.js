// Progressive enhancement only: every form works without this file.
// "全选" in the review queue ticks every item of its department's form.
document.addEventListener("change", function (event) {
  var box = event.target;
  if (!box.classList || !box.classList.contains("select-all")) return;
  var form = box.closest("form");
  if (!form) return;
  form.querySelectorAll('input[type="checkbox"][name="ids"]').forEach(function (item) {
    item.checked = box.checked;
  });
});
