import json, collections, os, re
D = {
"pii-001": [("Tomasz Wierzbicki-Lund","signoff"),("EMP-0048213","employee_id"),("Okafor, Chidinma","person_name_prose"),
  ("Summer","name_common_word"),("R. Vasquez-Thornbury","person_name_prose"),("@tomek-wl","handle"),
  ("tomasz.wierzbicki [at] halvard-labs [dot] io","email"),("Chidinma Okafor","signoff")],
"pii-002": [("Aigerim Bekova","signoff"),("B-77102","employee_id"),("Дмитрий Соколов","name_non_latin"),("김서연","name_non_latin"),
  ("Mark","name_common_word"),("+44 7700 918 245","phone"),("+44 20 7946 0381 ext. 4417","phone"),
  ("14 Marlowe Crescent, Leeds LS6 2QT","address"),("Aigerim","signoff"),("parental leave from 3 November","other")],
"pii-003": [("Priya Ramanathan-Oduya","signoff"),("523-41-8876","national_id"),("JT 48 27 19 B","national_id"),
  ("Grant Whitlow-Ames","person_name_prose"),("Grant","name_common_word"),("j.ferreira-moss","person_name_prose"),
  ("João Ferreira-Moss","person_name_prose"),("17/08/1986","date_of_birth"),("HR-2290-5517","employee_id"),("Ilse van der Berg","signoff")],
"pii-004": [("Miguel Ángel Ibarra","person_name_prose"),("Hope","name_common_word"),("192.168.41.207","other"),
  ('Oluwaseun "Seun" Adebayo-Clarke',"person_name_prose"),("https://nadiakowalczyk.dev/notes/incidents","url_personal"),
  ("linkedin.com/in/nadia-kowalczyk-ml","url_personal"),("nadia.kowalczyk@brightmoor-analytics.com","email"),
  ("KN19 XRT","other"),("Nadia Kowalczyk","signoff")],
"pii-005": [("Ελένη Παπαδοπούλου","name_non_latin"),("Wanjiru Kamau","person_name_prose"),("يوسف الحربي","name_non_latin"),
  ("Joy Nakamura-Hale","person_name_prose"),("Joy","name_common_word"),("Faith O'Donnell-Reyes","person_name_prose"),
  ("faith.odr at kestrelinsure dot com","email"),("@lena.m","handle"),("Faith","name_common_word"),("Lena Marchetti","signoff")],
"pii-006": [("陈志明","name_non_latin"),("राहुल मेहता","name_non_latin"),("Will Tanaka-Brooks","person_name_prose"),
  ("Will","name_common_word"),("2281 Harrow Lane, Apt 5B, Somerville, MA 02144","address"),("(617) 555-0142","phone"),
  ("+1 617 555 0199 x203","phone"),("Marguerite Asante-Fleury","signoff"),("Kwabena Osei-Tutu","signoff")],
"pii-007": [("sigrid.haugland","handle"),("github.com/bartek-zielinski","url_personal"),("@bzielinski","handle"),
  ("Rose","name_common_word"),("NL62 RABO 0318 7745 21","other"),("NL27 INGB 0006 8412 93","other"),
  ("284 617 093","national_id"),("0070-4512","employee_id"),("Bartek Zieliński","signoff")],
"pii-008": [("박지훈","name_non_latin"),("Анна Кузнецова","name_non_latin"),("Frank","name_common_word"),("Frank Obi","person_name_prose"),
  ("3 March 1991","date_of_birth"),("Flat 2, 77 Cowley Road, Oxford OX4 1HR","address"),("hyejin.choi(at)proton(dot)me","email"),
  ("Samuel Achterberg","signoff"),("Hye-jin Choi","signoff")],
"pii-009": [("Aarav Kulkarni","signoff"),("S. Raghunathan","person_name_prose"),("Bill","name_common_word"),
  ("Bill Hartigan-Moore","person_name_prose"),("lakshmi_v","handle"),("BDG 4471-09","employee_id"),
  ("+91 80 4718 2290","phone"),("+91-98450-31762","phone"),("AKLPK4821M","national_id"),
  ("No. 42, 3rd Cross, Indiranagar 2nd Stage, Bengaluru 560038","address")],
"pii-010": [("Tamsin Oyelaran-Price","person_name_prose"),("王芳","name_non_latin"),("Deepak Varghese","person_name_prose"),
  ("Hana Nováková-Ríos","person_name_prose"),("Carlos Mbeki-Lindqvist","person_name_prose"),
  ("K4829173","national_id"),("231-D-48817","other"),("3C:22:FB:91:7A:0E","other"),("Mei Lin Fitzgerald","signoff"),
  ("C. Mbeki-Lindqvist","signoff")],
"pii-011": [("Siobhán Ní Bhriain","person_name_prose"),("Rohan D'Souza","person_name_prose"),("Ade","person_name_prose"),
  ("Patrick O'Keeffe-Nwosu","person_name_prose"),("adaeze.okonkwo+promo@gmail.com","email"),("@ade.okonkwo","handle"),
  ("+353 1 555 7720, ext 318","phone"),("Adaeze Okonkwo","signoff")],
"pii-012": [("Marisol Quintero-Haas","person_name_prose"),("Kofi Mensah-Boateng","person_name_prose"),("Ingrid Solberg","person_name_prose"),
  ("https://www.petrovic-writes.net/","url_personal"),("@d_petrovic@hachyderm.io","handle"),("U-558201","employee_id"),
  ("1984-11-29","date_of_birth"),("1984-11-09","date_of_birth"),("Hollis Ferreira","signoff"),("Dragana Petrović","signoff")],
"pii-013": [("Summer-Rae Lindgren","person_name_prose"),("Νίκος Αντωνίου","name_non_latin"),("प्रिया शर्मा","name_non_latin"),
  ("six weeks of medical leave","other"),("527 381 604","national_id"),("416.555.0187","phone"),
  ("Théo Marchand-Oyelowo","signoff"),("Ahmad Rezaei","signoff")],
"pii-014": [("Chase","name_common_word"),("Dawn","name_common_word"),("marco.b","handle"),("kaiwen_dev","handle"),
  ("31-88402-K","employee_id"),("EH9 1QS","address"),("sam.oduya.ml@outlook.com","email"),("Sam Oduya","signoff")],
"pii-015": [("Jörg Pfeiffer-Almeida","person_name_prose"),("Ксения Орлова","name_non_latin"),("github.com/xenia-orlova-dev","url_personal"),
  ("Kastanienallee 58, 10119 Berlin","address"),("47 036 892 815","national_id"),("+49 (0)30 5557 2190","phone"),
  ("P-0193-DE","employee_id"),("huggingface.co/lvdm-research","url_personal"),("Lukas van der Merwe","signoff")],
"pii-016": [("Oksana Hrytsenko-Bell","signoff"),("Declan Furlong","signoff"),("o.hrytsenko@corvid-hr.example","email"),
  ("dfurlong@corvid-hr.example","email"),("Ngozi Eze-Halvorsen","person_name_prose"),("Grace","name_common_word"),
  ("07911 284 630","phone"),("22 June 1993","date_of_birth")],
}
NOT = [("pii-001","Atlas"),("pii-001","Kubernetes"),("pii-001","March"),("pii-002","Postgres"),("pii-002","Thursday"),
 ("pii-004","Ranker v2"),("pii-004","Sunday"),("pii-004","February"),("pii-007","April"),("pii-009","Pinecone"),
 ("pii-009","Sydney"),("pii-010","Monday"),("pii-010","Applied AI Platform"),("pii-012","Beacon"),("pii-012","January"),
 ("pii-014","September"),("pii-015","Will a rerun"),("pii-011","#support-ai")]
FAM = ["person_name_prose","name_non_latin","name_common_word","handle","email","phone","national_id","employee_id",
 "address","url_personal","signoff","date_of_birth","other"]
ok = True
cnt = collections.Counter(); per = collections.Counter()
with open("details.jsonl","w") as f:
    for pk, items in D.items():
        txt = open(f"packets/{pk}.md", encoding="utf-8").read()
        w = len(txt.split())
        if not 300 <= w <= 700: print("WORDS", pk, w); ok=False
        if not 6 <= len(items) <= 11: print("COUNT", pk, len(items))
        for t, fam in items:
            assert fam in FAM, fam
            if t not in txt: print("MISSING", pk, repr(t)); ok=False
            cnt[fam]+=1; per[pk]+=1
            f.write(json.dumps({"packet":pk,"text":t,"family":fam}, ensure_ascii=False)+"\n")
with open("not_pii.jsonl","w") as f:
    for pk,t in NOT:
        txt = open(f"packets/{pk}.md", encoding="utf-8").read()
        if t not in txt: print("NOTPII MISSING", pk, t); ok=False
        for pt,_ in D[pk]:
            if t in pt or pt in t: print("OVERLAP", pk, t, pt); ok=False
        f.write(json.dumps({"packet":pk,"text":t}, ensure_ascii=False)+"\n")
roster = [l.strip() for l in open("roster.txt", encoding="utf-8") if l.strip()] if os.path.exists("roster.txt") else []
for r in roster:
    hits=[pk for pk in D if r in open(f"packets/{pk}.md",encoding="utf-8").read()]
    print("roster", r, hits)
    if not hits: ok=False
for fam in FAM: print(f"{fam:20s} {cnt[fam]}")
print("total", sum(cnt.values()), "packets", len(D), "ok", ok)
print(dict(per))
