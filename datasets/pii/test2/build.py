import json, collections
D = {
"p2-001": [("Priya Raman","signoff"),("EMP-004417","employee_id"),("Hunter","name_common_word"),("Tomasz Wieczorek","person_name_prose"),("김지우","name_non_latin"),("@tomasz.w","handle"),("Ji-woo","person_name_prose"),("Priya","person_name_prose"),("eight weeks of medical leave after spinal surgery","other"),("priya (dot) raman (at) corp (dot) example","email"),("@priya.r","handle"),("+44 7700 900 418","phone")],
"p2-002": [("Lena Okafor","signoff"),("7781-22","employee_id"),("Rich Adeyemi","name_common_word"),("Rich","name_common_word"),("12 Rue des Lilas, 75011 Paris","address"),("رنا الخطيب","name_non_latin"),("Dmitri Volkov","signoff"),("dmitri.volkov@corp.example","email"),("lena.okafor@corp.example","email"),("Σοφία Παπαδοπούλου","name_non_latin"),("1988-11-02","date_of_birth"),("47 036 892 815","national_id")],
"p2-003": [("Tomás Ferreira","signoff"),("A-33910","employee_id"),("Ananya Krishnan","person_name_prose"),("Ananya","person_name_prose"),("Bo","name_common_word"),("राहुल वर्मा","name_non_latin"),("https://tomasferreira.example/talks","url_personal"),("@tferreira@mastodon.example","handle"),("Flat 402, Sai Residency, 5th Cross, Koramangala, Bengaluru 560034","address"),("4921 5550 1837","national_id"),("+91 98450 55512","phone")],
"p2-004": [("1990年7月3日","date_of_birth"),("203.0.113.57","other"),("JP-20931","employee_id"),("Sunny","name_common_word"),("王芳","name_non_latin"),("Wang Fang","person_name_prose"),("สมชาย ใจดี","name_non_latin"),("sakuran.dev","handle"),("中村 さくら","signoff"),("Sakura Nakamura","signoff"),("〒150-0002 東京都渋谷区渋谷 2-15-1 サンプルビル 8F","address"),("090-5555-0123","phone")],
"p2-005": [("Grace Whitfield","signoff"),("hr_00912","employee_id"),("Summer","name_common_word"),("Ольга Смирнова","name_non_latin"),("Kwame Asante","signoff"),("grace.whitfield@home.example","email"),("https://www.linkedin.example/in/gracewhitfield","url_personal"),("900-55-0142","national_id"),("March 14, 1986","date_of_birth"),("4417 Juniper Hollow Dr, Apt 3B, Austin, TX 78704","address"),("(555) 014-2298","phone")],
"p2-006": [("0048213","employee_id"),("May Chen","name_common_word"),("amehta","handle"),("Robin","name_common_word"),("ნინო ბერიძე","name_non_latin"),("Arjun Mehta","signoff"),("https://github.example/arjunmehta-ml","url_personal"),("QX 55 01 42 B","national_id"),("14 Larkspur Road, Leeds LS6 2QT","address"),("0113 496 0555","phone"),("sort code 20-55-01, account 55501423","other")],
"p2-007": [("Olusegun Bello","signoff"),("Chase","name_common_word"),("Segun","person_name_prose"),("Hope Adebayo","name_common_word"),("李娜","name_non_latin"),("<@U04QK7Z2M1B>","handle"),("+234 803 555 0147","phone"),("segun.bello at corp dot example","email"),("07/09/1993","date_of_birth"),("55501234567","national_id"),("Plot 17, Admiralty Way, Lekki Phase 1, Lagos 106104","address"),("LND-555-AA","other")],
"p2-008": [("Marta Kowalczyk","signoff"),("0931-DE","employee_id"),("Sage","name_common_word"),("Олег Бондаренко","name_non_latin"),("Kasia","person_name_prose"),("m.kowalczyk@posteo.example","email"),("https://kowalczyk.example/cv.pdf","url_personal"),("+49 (0)30 5550 1923","phone"),("Hauptstraße 42, 10115 Berlin","address"),("15.07.1992","date_of_birth"),("92071555012","national_id"),("DE89 3704 0044 0532 0130 00","other")],
"p2-009": [("E-2231-7","employee_id"),("Frank Liu","name_common_word"),("Frank","name_common_word"),("கார்த்திக் ராஜா","name_non_latin"),("Will","name_common_word"),("three weeks of sick leave for chronic migraines","other"),("Will Hartley","signoff"),("88 Queen St W, Suite 1200, Toronto, ON M5H 2N2","address"),("416.555.0177","phone"),("will[at]hartley[dot]example","email"),("https://hartley.example/blog","url_personal"),("946 555 012","national_id")],
"p2-010": [("Noa Levi","signoff"),("נועה לוי","name_non_latin"),("STF/0412/IL","employee_id"),("Yossi","person_name_prose"),("Ivy Tan","name_common_word"),("ivy.tan@users.noreply.github.example","email"),("gh:noalevi-ai","handle"),("https://noalevi.example","url_personal"),("23-Feb-1992","date_of_birth"),("055501234","national_id"),("Rothschild Blvd 22, Tel Aviv-Yafo 6688218","address"),("+972-52-555-0199","phone")],
}
N = {
"p2-001": ["Atlas","Dublin","March","#assistant-incidents","June"],
"p2-002": ["Sydney office","September","Arabic"],
"p2-003": ["Team Orion","Monday","October","Bengaluru office"],
"p2-004": ["Hermes","Friday","Tokyo office"],
"p2-005": ["Ada claims assistant","Jenkins"],
"p2-006": ["Cassandra","London office"],
"p2-007": ["I drew the diagram","grace period","Yoruba"],
"p2-008": ["high-water mark","the penny dropped","Berlin office"],
"p2-009": ["the model will abstain","January"],
"p2-010": ["Project Florence"],
}
with open("details.jsonl","w") as f:
    for p,items in D.items():
        for t,fam in items: f.write(json.dumps({"packet":p,"text":t,"family":fam},ensure_ascii=False)+"\n")
with open("not_pii.jsonl","w") as f:
    for p,items in N.items():
        for t in items: f.write(json.dumps({"packet":p,"text":t},ensure_ascii=False)+"\n")
