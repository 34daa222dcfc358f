// /try: dial the hotline from the browser, with a keypad for the rating.
import { wire } from "/static/softphone.js";

wire(document.getElementById("softphone"));
